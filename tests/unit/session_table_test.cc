#include "policy/session_table.h"
#include "tests/unit/address_literals.h"
#include "tests/unit/hash_flooding.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

using policy::Endpoint;
using policy::EndpointHash;
using policy::IpAddress;
using policy::ReplyRefusal;
using policy::SessionTable;

namespace {

Endpoint endpoint(const std::string& address, uint16_t port) { return {ip(address), port}; }

// 10.x.y.z:port for a number: the sources of a flood.
Endpoint spoofed(uint32_t n) {
  const uint8_t four[4] = {10, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  return {IpAddress::v4(four), static_cast<uint16_t>(1024 + n % 60000)};
}

constexpr uint64_t kRatio = 3;

}  // namespace

TEST_CASE("a datagram opens a session that replies may use until the timeout") {
  SessionTable table(1000, 16);
  const Endpoint client = endpoint("192.0.2.1", 5000);
  CHECK(table.check_reply(client, 1, kRatio, 0) == ReplyRefusal::no_session);
  table.received(client, 10, 100);
  CHECK(table.active(client, 100));
  CHECK(table.check_reply(client, 1, kRatio, 1099) == ReplyRefusal::none);
  CHECK(table.check_reply(client, 1, kRatio, 1100) == ReplyRefusal::no_session);
  CHECK_FALSE(table.active(client, 1100));
  // Another port of the same address is another source.
  CHECK(table.check_reply(endpoint("192.0.2.1", 5001), 1, kRatio, 200) == ReplyRefusal::no_session);
}

TEST_CASE("reply amplification: replies to a session total at most ratio x the bytes it sent, headers included") {
  SessionTable table(60000, 16);
  const Endpoint client = endpoint("192.0.2.1", 443);
  table.received(client, 100, 0);  // 128 bytes on the wire: a budget of 384
  CHECK(table.check_reply(client, 357, kRatio, 1) == ReplyRefusal::amplification);
  REQUIRE(table.check_reply(client, 200, kRatio, 1) == ReplyRefusal::none);  // 228
  table.replied(client, 200);
  CHECK(table.check_reply(client, 129, kRatio, 2) == ReplyRefusal::amplification);
  REQUIRE(table.check_reply(client, 128, kRatio, 2) == ReplyRefusal::none);  // 156, the rest
  table.replied(client, 128);
  // Even an empty reply takes its headers.
  CHECK(table.check_reply(client, 0, kRatio, 3) == ReplyRefusal::amplification);
  // More received, more budget: 30 bytes, 90 more.
  table.received(client, 2, 4);
  CHECK(table.check_reply(client, 63, kRatio, 5) == ReplyRefusal::amplification);
  CHECK(table.check_reply(client, 62, kRatio, 5) == ReplyRefusal::none);
  // Another ratio applies to the same counts: 158 received, 384 replied.
  CHECK(table.check_reply(client, 0, 2, 5) == ReplyRefusal::amplification);
  CHECK(table.check_reply(client, 220, 4, 5) == ReplyRefusal::none);
  CHECK(table.check_reply(client, 221, 4, 5) == ReplyRefusal::amplification);
}

TEST_CASE("reply amplification: an IPv6 datagram's headers count 48 bytes") {
  SessionTable table(60000, 16);
  const Endpoint client = endpoint("2001:db8::1", 443);
  table.received(client, 0, 0);  // an empty datagram: 48 bytes, a budget of 144
  CHECK(table.check_reply(client, 96, kRatio, 0) == ReplyRefusal::none);
  CHECK(table.check_reply(client, 97, kRatio, 0) == ReplyRefusal::amplification);
}

TEST_CASE("reply amplification: a tiny request still gets a short answer, and the budget saturates") {
  SessionTable table(60000, 16);
  // "q" and "pong #1\n": 29 bytes in, 36 out.
  const Endpoint ping = endpoint("192.0.2.1", 1);
  table.received(ping, 1, 0);
  CHECK(table.check_reply(ping, 8, kRatio, 0) == ReplyRefusal::none);
  CHECK(table.check_reply(ping, 60, kRatio, 0) == ReplyRefusal::amplification);
  const Endpoint huge = endpoint("192.0.2.2", 1);
  table.received(huge, std::numeric_limits<size_t>::max(), 0);
  table.received(huge, std::numeric_limits<size_t>::max(), 0);
  // ratio x received overflows 64 bits: the budget is the largest there is.
  CHECK(table.check_reply(huge, std::numeric_limits<size_t>::max() - 100, 1000, 0) == ReplyRefusal::none);
  table.replied(huge, std::numeric_limits<size_t>::max());
  table.replied(huge, std::numeric_limits<size_t>::max());
  CHECK(table.check_reply(huge, 1, 1000, 0) == ReplyRefusal::amplification);
}

TEST_CASE("a second datagram or a reply establishes a session; one datagram does not") {
  SessionTable table(60000, 16);
  const Endpoint once = endpoint("192.0.2.1", 1);
  const Endpoint twice = endpoint("192.0.2.2", 1);
  const Endpoint answered = endpoint("192.0.2.3", 1);
  table.received(once, 10, 0);
  table.received(twice, 10, 0);
  table.received(twice, 10, 1);
  table.received(answered, 10, 0);
  table.replied(answered, 5);
  CHECK_FALSE(table.established(once));
  CHECK(table.established(twice));
  CHECK(table.established(answered));
  CHECK(table.established_count() == 2);
  CHECK(table.size() == 3);
  // A reply to no session changes nothing.
  table.replied(endpoint("192.0.2.9", 1), 5);
  CHECK(table.size() == 3);
}

TEST_CASE("UDP session flood: spoofed one-datagram sources do not push out established sessions") {
  constexpr size_t kMax = 1000;
  SessionTable table(120000, kMax);
  std::vector<Endpoint> clients;
  for (int i = 0; i < 100; ++i) clients.push_back(endpoint("2001:db8::" + std::to_string(i + 1), 4000));
  uint64_t now = 0;
  for (size_t i = 0; i < clients.size(); ++i) {
    table.received(clients[i], 50, now);
    // Half send again, half are answered: both count as established.
    if (i % 2) {
      table.received(clients[i], 50, now + 1);
    } else {
      table.replied(clients[i], 20);
    }
  }
  // 200 000 spoofed sources, one datagram each, at 100 a millisecond: the
  // old LRU table forgot every client after the first 900 of them.
  for (uint32_t n = 0; n < 200000; ++n) table.received(spoofed(n), 1, now + n / 100);
  now += 2000;
  CHECK(table.size() == kMax);
  CHECK(table.evictions() == 100 + 200000 - kMax);
  for (const auto& client : clients) {
    CAPTURE(client.address.to_string());
    CHECK(table.established(client));
    CHECK(table.check_reply(client, 10, kRatio, now) == ReplyRefusal::none);
  }
  // The flood replaced itself: only its most recent sources are left.
  CHECK(table.active(spoofed(199999), now));
  CHECK_FALSE(table.active(spoofed(0), now));
}

TEST_CASE("with every session established, a new source pushes out the least recently seen one") {
  SessionTable table(120000, 3);
  const Endpoint a = endpoint("192.0.2.1", 1);
  const Endpoint b = endpoint("192.0.2.2", 1);
  const Endpoint c = endpoint("192.0.2.3", 1);
  for (const auto& e : {a, b, c}) table.received(e, 1, 0);
  for (const auto& e : {b, a, c}) table.received(e, 1, 1);  // b least recently seen
  REQUIRE(table.established_count() == 3);
  table.received(endpoint("192.0.2.4", 1), 1, 2);
  CHECK(table.size() == 3);
  CHECK_FALSE(table.active(b, 2));
  CHECK(table.active(a, 2));
  CHECK(table.active(c, 2));
  // The next new source replaces the probationary one, not another established.
  table.received(endpoint("192.0.2.5", 1), 1, 3);
  CHECK(table.active(a, 3));
  CHECK(table.active(c, 3));
  CHECK_FALSE(table.active(endpoint("192.0.2.4", 1), 3));
  CHECK(table.evictions() == 2);
}

TEST_CASE("expire drops idle sessions of both segments and keeps the rest") {
  SessionTable table(1000, 16);
  const Endpoint probationary = endpoint("192.0.2.1", 1);
  const Endpoint established = endpoint("192.0.2.2", 1);
  const Endpoint fresh = endpoint("192.0.2.3", 1);
  table.received(probationary, 1, 0);
  table.received(established, 1, 0);
  table.received(established, 1, 100);
  table.received(fresh, 1, 900);
  CHECK(table.expire(999) == 0);
  CHECK(table.expire(1000) == 1);
  CHECK(table.expire(1100) == 1);
  CHECK(table.size() == 1);
  CHECK(table.active(fresh, 1100));
  // A session established by a reply is still found once idle.
  table.replied(fresh, 1);
  CHECK(table.expire(1900) == 1);
  CHECK(table.size() == 0);
}

TEST_CASE("a clock that steps back keeps sessions live") {
  SessionTable table(1000, 16);
  const Endpoint client = endpoint("192.0.2.1", 1);
  table.received(client, 10, 5000);
  CHECK(table.active(client, 10));
  CHECK(table.expire(10) == 0);
  CHECK(table.check_reply(client, 1, kRatio, 10) == ReplyRefusal::none);
}

TEST_CASE("a table bounded at zero keeps one session") {
  SessionTable table(1000, 0);
  table.received(endpoint("192.0.2.1", 1), 1, 0);
  table.received(endpoint("192.0.2.2", 1), 1, 0);
  CHECK(table.size() == 1);
  CHECK(table.active(endpoint("192.0.2.2", 1), 0));
}

namespace {

// The unkeyed hash EndpointHash used to be: FNV-1a of the address, times 31, plus the port.
size_t unkeyed(const Endpoint& endpoint) { return hash_flooding::unkeyed_fnv(endpoint.address) * 31 + endpoint.port; }

struct UnkeyedHash {
  size_t operator()(const Endpoint& endpoint) const { return unkeyed(endpoint); }
};

using hash_flooding::largest_bucket;

}  // namespace

TEST_CASE("hash flooding: endpoints of one /64 that share a bucket under the unkeyed hash spread out") {
  std::unordered_map<Endpoint, int, UnkeyedHash> old_table;
  old_table.reserve(1000);
  const size_t buckets = old_table.bucket_count();
  // One address, then whatever port puts it in bucket 0: any address of the
  // attacker's /64 has one.
  std::vector<Endpoint> batch;
  IpAddress address = ip("2001:db8:0:1::");
  for (uint32_t n = 0; batch.size() < 200; ++n) {
    address.bytes[12] = static_cast<uint8_t>(n >> 24);
    address.bytes[13] = static_cast<uint8_t>(n >> 16);
    address.bytes[14] = static_cast<uint8_t>(n >> 8);
    address.bytes[15] = static_cast<uint8_t>(n);
    for (uint32_t port = 1; port < 65536; ++port) {
      Endpoint candidate{address, static_cast<uint16_t>(port)};
      if (unkeyed(candidate) % buckets == 0) {
        batch.push_back(candidate);
        break;
      }
    }
  }
  for (const auto& e : batch) old_table.emplace(e, 0);
  REQUIRE(old_table.bucket_count() == buckets);
  REQUIRE(largest_bucket(old_table) == 200);

  std::unordered_map<Endpoint, int, EndpointHash> keyed;
  keyed.reserve(1000);
  REQUIRE(keyed.bucket_count() == buckets);
  for (const auto& e : batch) keyed.emplace(e, 0);
  CHECK(largest_bucket(keyed) < 8);
}

TEST_CASE("EndpointHash agrees with equality and tells ports apart") {
  EndpointHash hash;
  CHECK(hash(endpoint("10.1.2.3", 53)) == hash(Endpoint{ip("::ffff:10.1.2.3").unmapped(), 53}));
  CHECK(hash(endpoint("10.1.2.3", 53)) != hash(endpoint("10.1.2.3", 54)));
}
