#include "policy/rate_limiter.h"
#include "common/keyed_hash.h"
#include "tests/unit/address_literals.h"
#include "tests/unit/hash_flooding.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

using policy::IpAddress;
using policy::IpAddressHash;
using policy::RateLimiter;
using policy::source_key;

namespace {

// Calls allow() until it refuses (at most `limit` times); returns how many passed.
uint32_t drain(RateLimiter& limiter, const IpAddress& key, uint64_t now_ms, uint32_t limit = 1000) {
  uint32_t allowed = 0;
  while (allowed < limit && limiter.allow(key, now_ms)) ++allowed;
  return allowed;
}

}  // namespace

TEST_CASE("a new source may burst per_source events, then is refused") {
  struct Case {
    uint32_t per_source;
    uint64_t window_ms;
  };
  for (const auto& c : std::vector<Case>{{1, 1000}, {2, 1000}, {3, 1000}, {20, 10000}, {100, 60000}}) {
    CAPTURE(c.per_source);
    CAPTURE(c.window_ms);
    RateLimiter limiter(c.per_source, c.window_ms, 16);
    const IpAddress source = ip("10.0.0.1");
    for (uint32_t i = 0; i < c.per_source; ++i) CHECK(limiter.allow(source, 5000));
    CHECK_FALSE(limiter.allow(source, 5000));
    CHECK_FALSE(limiter.allow(source, 5000));
    CHECK(limiter.tracked() == 1);
  }
}

TEST_CASE("a source's first event at time zero is allowed") {
  RateLimiter limiter(1, 1000, 4);
  CHECK(limiter.allow(ip("10.0.0.1"), 0));
  CHECK_FALSE(limiter.allow(ip("10.0.0.1"), 0));
}

TEST_CASE("a token is due exactly window/per_source after the burst, not a millisecond earlier") {
  struct Case {
    uint32_t per_source;
    uint64_t window_ms;
  };
  // window_ms divisible by per_source, so the token falls on a whole millisecond.
  for (const auto& c : std::vector<Case>{{1, 1000}, {2, 1000}, {4, 1000}, {20, 10000}, {10, 3000}, {5, 60000}}) {
    CAPTURE(c.per_source);
    CAPTURE(c.window_ms);
    const uint64_t start = 1000;
    const uint64_t step = c.window_ms / c.per_source;
    const IpAddress source = ip("10.0.0.1");
    SUBCASE("asked first one millisecond before") {
      RateLimiter limiter(c.per_source, c.window_ms, 4);
      REQUIRE(drain(limiter, source, start) == c.per_source);
      CHECK_FALSE(limiter.allow(source, start + step - 1));
      CHECK(limiter.allow(source, start + step));
      CHECK_FALSE(limiter.allow(source, start + step));
    }
    SUBCASE("asked only when due") {
      RateLimiter limiter(c.per_source, c.window_ms, 4);
      REQUIRE(drain(limiter, source, start) == c.per_source);
      CHECK(limiter.allow(source, start + step));
      CHECK_FALSE(limiter.allow(source, start + step));
    }
    SUBCASE("asked only one millisecond before") {
      RateLimiter limiter(c.per_source, c.window_ms, 4);
      REQUIRE(drain(limiter, source, start) == c.per_source);
      CHECK_FALSE(limiter.allow(source, start + step - 1));
    }
  }
}

TEST_CASE("a token is due on time however often the source asks in between") {
  struct Case {
    uint32_t per_source;
    uint64_t window_ms;
  };
  for (const auto& c : std::vector<Case>{{1, 10}, {1, 3000}, {1, 10000}, {2, 10000}, {5, 10000}, {10, 100},
                                         {10, 3000}, {100, 1000}, {1000, 10000}}) {
    CAPTURE(c.per_source);
    CAPTURE(c.window_ms);
    RateLimiter limiter(c.per_source, c.window_ms, 4);
    const IpAddress source = ip("10.0.0.1");
    REQUIRE(drain(limiter, source, 0) == c.per_source);
    const uint64_t step = c.window_ms / c.per_source;
    for (uint64_t t = 1; t < step; ++t) CHECK_FALSE(limiter.allow(source, t));
    CHECK(limiter.allow(source, step));
  }
}

TEST_CASE("a token that falls between milliseconds is given at the next millisecond") {
  // 3 per 1000 ms: one token every 333.33 ms.
  RateLimiter limiter(3, 1000, 4);
  const IpAddress source = ip("10.0.0.1");
  REQUIRE(drain(limiter, source, 0) == 3);
  CHECK_FALSE(limiter.allow(source, 333));
  CHECK(limiter.allow(source, 334));
  CHECK_FALSE(limiter.allow(source, 334));
}

TEST_CASE("a whole window refills the whole burst, and one millisecond less does not") {
  struct Case {
    uint32_t per_source;
    uint64_t window_ms;
  };
  for (const auto& c : std::vector<Case>{{1, 1000}, {2, 1000}, {20, 10000}, {7, 1000}, {100, 60000}}) {
    CAPTURE(c.per_source);
    CAPTURE(c.window_ms);
    const IpAddress source = ip("10.0.0.1");
    SUBCASE("after exactly one window") {
      RateLimiter limiter(c.per_source, c.window_ms, 4);
      REQUIRE(drain(limiter, source, 100) == c.per_source);
      CHECK(drain(limiter, source, 100 + c.window_ms) == c.per_source);
    }
    SUBCASE("one millisecond before the window ends") {
      RateLimiter limiter(c.per_source, c.window_ms, 4);
      REQUIRE(drain(limiter, source, 100) == c.per_source);
      CHECK(drain(limiter, source, 100 + c.window_ms - 1) == c.per_source - 1);
    }
  }
}

TEST_CASE("tokens do not accumulate beyond the burst while a source is quiet") {
  RateLimiter limiter(5, 1000, 4);
  const IpAddress source = ip("10.0.0.1");
  REQUIRE(drain(limiter, source, 0) == 5);
  CHECK(drain(limiter, source, 1000000) == 5);
}

TEST_CASE("a steady source at exactly the rate is always allowed, and faster is refused") {
  // 20 per 10 s, the spec's example: one every 500 ms.
  RateLimiter limiter(20, 10000, 4);
  const IpAddress source = ip("10.0.0.1");
  REQUIRE(drain(limiter, source, 0) == 20);
  uint32_t allowed = 0;
  uint32_t refused = 0;
  for (uint64_t t = 250; t <= 60000; t += 250) (limiter.allow(source, t) ? allowed : refused) += 1;
  // 240 asks over 60 s at twice the rate: the 120 on a 500 ms boundary pass.
  CHECK(allowed == 120);
  CHECK(refused == 120);
}

TEST_CASE("refused events do not use up tokens") {
  RateLimiter limiter(2, 1000, 4);
  const IpAddress source = ip("10.0.0.1");
  REQUIRE(drain(limiter, source, 0) == 2);
  for (int i = 0; i < 50; ++i) CHECK_FALSE(limiter.allow(source, 100));
  // 500 ms after the burst one token is due, however many refusals came first.
  CHECK(limiter.allow(source, 500));
}

TEST_CASE("sources have independent buckets") {
  RateLimiter limiter(2, 1000, 16);
  const IpAddress a = ip("10.0.0.1");
  const IpAddress b = ip("10.0.0.2");
  const IpAddress c = ip("2001:db8::");
  REQUIRE(drain(limiter, a, 0) == 2);
  CHECK(drain(limiter, b, 0) == 2);
  CHECK(drain(limiter, c, 0) == 2);
  CHECK_FALSE(limiter.allow(a, 0));
  CHECK(limiter.tracked() == 3);
}

TEST_CASE("an IPv4 key and an IPv6 key with the same leading bytes are different sources") {
  RateLimiter limiter(1, 1000, 16);
  const IpAddress v4 = ip("10.0.0.1");
  const IpAddress v6 = ip("a00:1::");  // bytes 0a 00 00 01 ...
  REQUIRE(v4.bytes == v6.bytes);
  CHECK(limiter.allow(v4, 0));
  CHECK(limiter.allow(v6, 0));
  CHECK(limiter.tracked() == 2);
}

TEST_CASE("keys from source_key share a bucket for a mapped source and for one IPv6 /64") {
  RateLimiter limiter(1, 1000, 16);
  CHECK(limiter.allow(source_key(ip("10.1.2.3"), 64), 0));
  CHECK_FALSE(limiter.allow(source_key(ip("::ffff:10.1.2.3"), 64), 0));
  CHECK(limiter.allow(source_key(ip("2001:db8:0:1::a"), 64), 0));
  CHECK_FALSE(limiter.allow(source_key(ip("2001:db8:0:1::b"), 64), 0));
  CHECK(limiter.allow(source_key(ip("2001:db8:0:2::a"), 64), 0));
  CHECK(limiter.tracked() == 3);
}

TEST_CASE("IpAddressHash agrees with equality") {
  IpAddressHash hash;
  CHECK(hash(ip("10.1.2.3")) == hash(ip("::ffff:10.1.2.3").unmapped()));
  CHECK(hash(ip("2001:db8::1")) == hash(ip("2001:db8:0:0::1")));
}

namespace {

// The unkeyed hash IpAddressHash used to be.
struct UnkeyedHash {
  size_t operator()(const IpAddress& address) const { return hash_flooding::unkeyed_fnv(address); }
};
using hash_flooding::largest_bucket;

}  // namespace

TEST_CASE("hash flooding: addresses of one /64 that share a bucket under the unkeyed hash spread out") {
  // What an attacker owning 2001:db8:0:1::/64 computes offline: 200 of its
  // addresses that all land in one bucket of a table of this size.
  std::unordered_map<IpAddress, int, UnkeyedHash> unkeyed;
  unkeyed.reserve(1000);
  const size_t buckets = unkeyed.bucket_count();
  std::vector<IpAddress> batch;
  IpAddress address = ip("2001:db8:0:1::");
  for (uint32_t n = 0; batch.size() < 200; ++n) {
    for (size_t i = 0; i < 4; ++i) address.bytes[12 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
    if (UnkeyedHash{}(address) % buckets == 0) batch.push_back(address);
  }
  for (const auto& a : batch) unkeyed.emplace(a, 0);
  REQUIRE(unkeyed.bucket_count() == buckets);
  REQUIRE(largest_bucket(unkeyed) == 200);  // the flood: every lookup a scan

  std::unordered_map<IpAddress, int, IpAddressHash> keyed;
  keyed.reserve(1000);
  REQUIRE(keyed.bucket_count() == buckets);
  for (const auto& a : batch) keyed.emplace(a, 0);
  // 200 keys in ~1000 buckets: a random hash puts 8 in one bucket with a
  // probability below 1e-7.
  CHECK(largest_bucket(keyed) < 8);
}

TEST_CASE("IpAddressHash is keyed per process and tells the families apart") {
  // The process key is random: the hash of a fixed address is not the
  // unkeyed one, and it is SipHash over the family and the address bytes.
  const IpAddress v4 = ip("10.1.2.3");
  const uint8_t v4_input[] = {4, 10, 1, 2, 3};
  CHECK(IpAddressHash{}(v4) == common::keyed_hash(v4_input, sizeof v4_input));
  CHECK(IpAddressHash{}(v4) != UnkeyedHash{}(v4));
  CHECK(IpAddressHash{}(ip("10.1.2.3")) != IpAddressHash{}(ip("a01:203::")));
}

TEST_CASE("at max_sources the least recently seen source is evicted and counted") {
  RateLimiter limiter(1, 1000, 3);
  const IpAddress a = ip("10.0.0.1");
  const IpAddress b = ip("10.0.0.2");
  const IpAddress c = ip("10.0.0.3");
  const IpAddress d = ip("10.0.0.4");
  CHECK(limiter.allow(a, 0));
  CHECK(limiter.allow(b, 1));
  CHECK(limiter.allow(c, 2));
  CHECK(limiter.tracked() == 3);
  CHECK(limiter.evictions() == 0);
  // a new source at the bound evicts a, the least recently seen
  CHECK(limiter.allow(d, 3));
  CHECK(limiter.tracked() == 3);
  CHECK(limiter.evictions() == 1);
  // b and c are still tracked with empty buckets
  CHECK_FALSE(limiter.allow(b, 4));
  CHECK_FALSE(limiter.allow(c, 4));
  CHECK(limiter.evictions() == 1);
}

TEST_CASE("an evicted source comes back with a full bucket") {
  RateLimiter limiter(3, 60000, 2);
  const IpAddress a = ip("10.0.0.1");
  REQUIRE(drain(limiter, a, 0) == 3);
  CHECK(limiter.allow(ip("10.0.0.2"), 1));
  CHECK(limiter.allow(ip("10.0.0.3"), 2));  // evicts a
  CHECK(limiter.evictions() == 1);
  CHECK(drain(limiter, a, 3) == 3);  // evicts 10.0.0.2
  CHECK(limiter.evictions() == 2);
  CHECK(limiter.tracked() == 2);
}

TEST_CASE("eviction follows the last time a source was seen, not when it was first seen") {
  RateLimiter limiter(1, 1000, 3);
  const IpAddress a = ip("10.0.0.1");
  const IpAddress b = ip("10.0.0.2");
  const IpAddress c = ip("10.0.0.3");
  CHECK(limiter.allow(a, 0));
  CHECK(limiter.allow(b, 1));
  CHECK(limiter.allow(c, 2));
  // a is seen again (refused, but seen): b is now the least recently seen
  CHECK_FALSE(limiter.allow(a, 3));
  CHECK(limiter.allow(ip("10.0.0.4"), 4));
  CHECK(limiter.evictions() == 1);
  CHECK_FALSE(limiter.allow(a, 5));  // still tracked, bucket still empty
  CHECK(limiter.allow(b, 5));        // evicted: a full bucket again
  CHECK(limiter.evictions() == 2);
}

TEST_CASE("the eviction count keeps growing under a flood of new sources") {
  RateLimiter limiter(1, 1000, 8);
  for (uint32_t i = 0; i < 1000; ++i) {
    const uint8_t four[4] = {10, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    CHECK(limiter.allow(IpAddress::v4(four), i));
  }
  CHECK(limiter.tracked() == 8);
  CHECK(limiter.evictions() == 992);
}

TEST_CASE("zero max_sources and a zero window are clamped to one") {
  RateLimiter limiter(1, 0, 0);
  const IpAddress a = ip("10.0.0.1");
  CHECK(limiter.allow(a, 0));
  CHECK_FALSE(limiter.allow(a, 0));
  CHECK(limiter.allow(a, 1));  // a 1 ms window
  CHECK(limiter.allow(ip("10.0.0.2"), 1));
  CHECK(limiter.tracked() == 1);
  CHECK(limiter.evictions() == 1);
}

TEST_CASE("forget_idle drops sources idle for at least idle_ms and keeps the rest") {
  RateLimiter limiter(1, 60000, 16);
  const IpAddress a = ip("10.0.0.1");
  const IpAddress b = ip("10.0.0.2");
  const IpAddress c = ip("10.0.0.3");
  CHECK(limiter.allow(a, 0));
  CHECK(limiter.allow(b, 500));
  CHECK(limiter.allow(c, 1000));
  limiter.forget_idle(1499, 1000);  // only a has been idle 1000 ms
  CHECK(limiter.tracked() == 2);
  limiter.forget_idle(1500, 1000);  // b has now been idle exactly 1000 ms
  CHECK(limiter.tracked() == 1);
  CHECK_FALSE(limiter.allow(c, 1500));  // c kept, bucket still empty
  // forgetting is not eviction
  CHECK(limiter.evictions() == 0);
}

TEST_CASE("a forgotten source starts again with a full bucket") {
  RateLimiter limiter(2, 60000, 16);
  const IpAddress a = ip("10.0.0.1");
  REQUIRE(drain(limiter, a, 0) == 2);
  limiter.forget_idle(100, 100);
  CHECK(limiter.tracked() == 0);
  CHECK(drain(limiter, a, 100) == 2);
}

TEST_CASE("forget_idle measures idleness from the last time a source was seen") {
  RateLimiter limiter(1, 60000, 16);
  const IpAddress a = ip("10.0.0.1");
  CHECK(limiter.allow(a, 0));
  CHECK_FALSE(limiter.allow(a, 900));  // refused, but seen
  limiter.forget_idle(1000, 1000);
  CHECK(limiter.tracked() == 1);
  limiter.forget_idle(1900, 1000);
  CHECK(limiter.tracked() == 0);
}

TEST_CASE("forget_idle on an empty limiter and with a zero idle time") {
  RateLimiter limiter(1, 1000, 16);
  limiter.forget_idle(0, 0);
  CHECK(limiter.tracked() == 0);
  CHECK(limiter.allow(ip("10.0.0.1"), 5));
  CHECK(limiter.allow(ip("10.0.0.2"), 6));
  limiter.forget_idle(5, 0);  // only what was last seen at or before now
  CHECK(limiter.tracked() == 1);
  limiter.forget_idle(6, 0);
  CHECK(limiter.tracked() == 0);
}

TEST_CASE("forget_idle with a very long idle time forgets nothing") {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (uint64_t idle_ms : {kMax, kMax - 5000, kMax - 10000}) {
    CAPTURE(idle_ms);
    RateLimiter limiter(1, 1000, 16);
    CHECK(limiter.allow(ip("10.0.0.1"), 10000));
    limiter.forget_idle(20000, idle_ms);
    CHECK(limiter.tracked() == 1);
  }
}

TEST_CASE("a clock that steps backwards does not underflow into a full bucket") {
  RateLimiter limiter(2, 1000, 16);
  const IpAddress a = ip("10.0.0.1");
  REQUIRE(drain(limiter, a, 10000) == 2);
  // now_ms smaller than the last one seen: no refill (an unsigned underflow
  // would look like ~584 million years and refill the bucket)
  CHECK_FALSE(limiter.allow(a, 5000));
  CHECK_FALSE(limiter.allow(a, 0));
  CHECK(limiter.tracked() == 1);
}

TEST_CASE("a backwards step does not make forget_idle drop a fresh source") {
  RateLimiter limiter(1, 1000, 16);
  CHECK(limiter.allow(ip("10.0.0.1"), 10000));
  limiter.forget_idle(5000, 1000);  // now before last seen: not idle
  CHECK(limiter.tracked() == 1);
}

TEST_CASE("a backwards step followed by a return does not grant extra tokens") {
  RateLimiter limiter(2, 1000, 16);
  const IpAddress a = ip("10.0.0.1");
  REQUIRE(drain(limiter, a, 10000) == 2);
  CHECK_FALSE(limiter.allow(a, 5000));
  CHECK_FALSE(limiter.allow(a, 10000));
  CHECK_FALSE(limiter.allow(a, 10499));
  CHECK(limiter.allow(a, 10500));
}
