#include "policy/claim_table.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using policy::ClaimKey;
using policy::ClaimPriority;
using policy::ClaimTable;
using policy::Transport;

namespace {

const ClaimKey kTcp7000{Transport::tcp, 7000};
const ClaimKey kUdp7000{Transport::udp, 7000};
const ClaimKey kTcp7001{Transport::tcp, 7001};

using Files = std::vector<std::string>;

std::string join(const Files& files) {
  std::string out;
  for (const auto& file : files) out += (out.empty() ? "" : ",") + file;
  return out;
}

// The waiting files, comma-separated, so that failures show them.
std::string waiting(const ClaimTable& table, ClaimKey key) { return join(table.waiting(key)); }

}  // namespace

TEST_CASE("the first claimant of a free key is granted it") {
  ClaimTable table;
  CHECK_FALSE(table.holder(kTcp7000).has_value());
  CHECK(table.waiting(kTcp7000).empty());

  auto outcome = table.claim(kTcp7000, {100, "a.tcp.7000.port.js"});
  CHECK(outcome.granted);
  CHECK(outcome.holder.empty());
  CHECK(table.holder(kTcp7000) == "a.tcp.7000.port.js");
  CHECK(table.waiting(kTcp7000).empty());
}

TEST_CASE("a later claimant is refused with the holder's name and waits") {
  ClaimTable table;
  REQUIRE(table.claim(kTcp7000, {200, "first.tcp.7000.port.js"}).granted);

  // Refused even though its priority is earlier: the holder keeps the key.
  auto outcome = table.claim(kTcp7000, {100, "second.tcp.7000.port.js"});
  CHECK_FALSE(outcome.granted);
  CHECK(outcome.holder == "first.tcp.7000.port.js");
  CHECK(table.holder(kTcp7000) == "first.tcp.7000.port.js");
  CHECK(waiting(table, kTcp7000) == "second.tcp.7000.port.js");
}

TEST_CASE("the holder re-claiming its own key is granted and does not queue") {
  ClaimTable table;
  REQUIRE(table.claim(kTcp7000, {100, "a.tcp.7000.port.js"}).granted);
  auto again = table.claim(kTcp7000, {100, "a.tcp.7000.port.js"});
  CHECK(again.granted);
  // A modified file (new mtime) is still the holder.
  auto modified = table.claim(kTcp7000, {500, "a.tcp.7000.port.js"});
  CHECK(modified.granted);
  CHECK(table.holder(kTcp7000) == "a.tcp.7000.port.js");
  CHECK(table.waiting(kTcp7000).empty());
}

TEST_CASE("a waiting claimant claiming again stays queued once") {
  ClaimTable table;
  REQUIRE(table.claim(kTcp7000, {100, "a.tcp.7000.port.js"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {200, "b.tcp.7000.port.js"}).granted);
  auto again = table.claim(kTcp7000, {200, "b.tcp.7000.port.js"});
  CHECK_FALSE(again.granted);
  CHECK(again.holder == "a.tcp.7000.port.js");
  CHECK(waiting(table, kTcp7000) == "b.tcp.7000.port.js");
}

TEST_CASE("a waiting claimant re-claiming with a new mtime keeps its original place once") {
  ClaimTable table;
  REQUIRE(table.claim(kTcp7000, {100, "a"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {200, "b"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {300, "c"}).granted);
  // b was edited while waiting: "a file's priority never changes while it waits".
  auto outcome = table.claim(kTcp7000, {500, "b"});
  CHECK_FALSE(outcome.granted);
  CHECK(outcome.holder == "a");
  CHECK(waiting(table, kTcp7000) == "b,c");

  REQUIRE(table.release(kTcp7000, "a") == std::optional<std::string>("b"));
  CHECK(table.holder(kTcp7000) == "b");
  CHECK(waiting(table, kTcp7000) == "c");  // the holder is not also waiting
}

TEST_CASE("release promotes the earliest waiting claimant by mtime, then file name, whatever the claim order") {
  struct Claim {
    int64_t mtime_ns;
    std::string file;
  };
  struct Case {
    const char* label;
    std::vector<Claim> waiting_in_claim_order;
    Files expected_promotions;  // in order, as the holder is released each time
  };
  const std::vector<Case> cases = {
      {"older mtime first, claimed last", {{300, "c"}, {200, "b"}, {100, "z"}}, {"z", "b", "c"}},
      {"older mtime first, claimed first", {{100, "z"}, {200, "b"}, {300, "c"}}, {"z", "b", "c"}},
      {"equal mtimes: file name order", {{100, "m"}, {100, "b"}, {100, "x"}}, {"b", "m", "x"}},
      {"mtime beats name", {{100, "zzz"}, {99, "zzzz"}, {101, "a"}}, {"zzzz", "zzz", "a"}},
      {"negative and zero mtimes", {{0, "b"}, {-5, "c"}, {0, "a"}}, {"c", "a", "b"}},
      // Byte order: upper case before lower case, ASCII before UTF-8 lead bytes.
      {"names compare in byte order", {{7, "caf\xC3\xA9"}, {7, "cafz"}, {7, "Cafe"}}, {"Cafe", "cafz", "caf\xC3\xA9"}},
      {"prefix sorts first", {{7, "ab"}, {7, "a"}}, {"a", "ab"}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    ClaimTable table;
    REQUIRE(table.claim(kTcp7000, {0, "holder"}).granted);
    for (const auto& claim : c.waiting_in_claim_order) {
      auto outcome = table.claim(kTcp7000, {claim.mtime_ns, claim.file});
      CHECK_FALSE(outcome.granted);
    }
    CHECK(waiting(table, kTcp7000) == join(c.expected_promotions));

    std::string current = "holder";
    for (const auto& next : c.expected_promotions) {
      auto promoted = table.release(kTcp7000, current);
      REQUIRE(promoted.has_value());
      CHECK(*promoted == next);
      CHECK(table.holder(kTcp7000) == next);
      auto queued = table.waiting(kTcp7000);
      CHECK(std::find(queued.begin(), queued.end(), next) == queued.end());
      current = next;
    }
    // The last holder leaving frees the key.
    CHECK_FALSE(table.release(kTcp7000, current).has_value());
    CHECK_FALSE(table.holder(kTcp7000).has_value());
    CHECK(table.waiting(kTcp7000).empty());
  }
}

TEST_CASE("releasing a waiting claimant removes it without touching the holder") {
  ClaimTable table;
  REQUIRE(table.claim(kTcp7000, {100, "holder"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {200, "early"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {300, "late"}).granted);

  CHECK_FALSE(table.release(kTcp7000, "early").has_value());
  CHECK(table.holder(kTcp7000) == "holder");
  CHECK(waiting(table, kTcp7000) == "late");

  // The removed claimant is not promoted later.
  auto promoted = table.release(kTcp7000, "holder");
  REQUIRE(promoted.has_value());
  CHECK(*promoted == "late");
  CHECK(table.waiting(kTcp7000).empty());
}

TEST_CASE("releasing the only holder frees the key for the next claimant") {
  ClaimTable table;
  REQUIRE(table.claim(kTcp7000, {100, "a"}).granted);
  CHECK_FALSE(table.release(kTcp7000, "a").has_value());
  CHECK_FALSE(table.holder(kTcp7000).has_value());
  auto outcome = table.claim(kTcp7000, {999, "b"});
  CHECK(outcome.granted);
  CHECK(table.holder(kTcp7000) == "b");
}

TEST_CASE("releasing an unknown file or key changes nothing") {
  ClaimTable table;
  CHECK_FALSE(table.release(kTcp7000, "nobody").has_value());
  REQUIRE(table.claim(kTcp7000, {100, "a"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {200, "b"}).granted);
  CHECK_FALSE(table.release(kTcp7000, "nobody").has_value());
  CHECK_FALSE(table.release(kUdp7000, "a").has_value());
  CHECK(table.holder(kTcp7000) == "a");
  CHECK(waiting(table, kTcp7000) == "b");
}

TEST_CASE("a former holder that comes back waits behind the new holder") {
  ClaimTable table;
  REQUIRE(table.claim(kTcp7000, {100, "a"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {200, "b"}).granted);
  REQUIRE(table.release(kTcp7000, "a") == std::optional<std::string>("b"));
  auto outcome = table.claim(kTcp7000, {100, "a"});
  CHECK_FALSE(outcome.granted);
  CHECK(outcome.holder == "b");
  CHECK(waiting(table, kTcp7000) == "a");
}

TEST_CASE("keys differing in transport or port are independent") {
  ClaimTable table;
  CHECK(table.claim(kTcp7000, {100, "tcp-holder"}).granted);
  CHECK(table.claim(kUdp7000, {200, "udp-holder"}).granted);
  CHECK(table.claim(kTcp7001, {300, "other-port"}).granted);
  REQUIRE_FALSE(table.claim(kTcp7000, {50, "tcp-waiter"}).granted);

  CHECK(table.holder(kTcp7000) == "tcp-holder");
  CHECK(table.holder(kUdp7000) == "udp-holder");
  CHECK(table.holder(kTcp7001) == "other-port");
  CHECK(table.waiting(kUdp7000).empty());
  CHECK(table.waiting(kTcp7001).empty());

  // The same file may hold keys on both transports.
  CHECK_FALSE(table.claim(kUdp7000, {100, "tcp-holder"}).granted);
  CHECK(table.release(kUdp7000, "udp-holder") == std::optional<std::string>("tcp-holder"));
  CHECK(table.holder(kTcp7000) == "tcp-holder");
  CHECK(waiting(table, kTcp7000) == "tcp-waiter");

  // Releasing one key leaves the others alone.
  CHECK(table.release(kTcp7000, "tcp-holder") == std::optional<std::string>("tcp-waiter"));
  CHECK(table.holder(kUdp7000) == "tcp-holder");
  CHECK(table.holder(kTcp7001) == "other-port");
}
