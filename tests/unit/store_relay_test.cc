// The store relay's pure parts: how a client's request is rewritten for the
// Redis/Valkey backend (the prefix on every key and channel), what Sentinel
// and ROLE replies mean, and the reconnection back-off.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ipc/resp.h"
#include "store/relay/backend.h"
#include "store/relay/relay_commands.h"
#include "store/relay/sentinel_replies.h"

namespace resp = ipc::resp;
using store::relay::Action;

namespace {

std::vector<std::string> upstream_args(const std::string& upstream) {
  std::vector<std::string> args;
  size_t consumed = 0;
  std::string error;
  REQUIRE(resp::parse_request(upstream, resp::Limits{}, args, consumed, error) == resp::ParseStatus::complete);
  CHECK(consumed == upstream.size());
  return args;
}

store::relay::Plan plan(std::vector<std::string> args, std::string_view prefix = "pb:", bool subscribed = false) {
  return store::relay::plan_request(args, prefix, subscribed);
}

resp::Value reply(const std::string& bytes) {
  resp::Value value;
  size_t consumed = 0;
  std::string error;
  REQUIRE(resp::parse_value(bytes, resp::Limits{}, value, consumed, error) == resp::ParseStatus::complete);
  return value;
}

}  // namespace

TEST_CASE("keys get the client's prefix on the way to the backend") {
  auto get = plan({"get", "count"});
  REQUIRE(get.action == Action::forward);
  CHECK(upstream_args(get.upstream) == std::vector<std::string>{"GET", "pb:count"});

  auto set = plan({"SET", "user", R"({"n":1})", "NX"}, "pb:bob:");
  REQUIRE(set.action == Action::forward);
  CHECK(upstream_args(set.upstream) == std::vector<std::string>{"SET", "pb:bob:user", R"({"n":1})", "NX"});

  auto del = plan({"DEL", "a", "b"});
  CHECK(upstream_args(del.upstream) == std::vector<std::string>{"DEL", "pb:a", "pb:b"});
  auto publish = plan({"publish", "news", "[1]"});
  CHECK(upstream_args(publish.upstream) == std::vector<std::string>{"PUBLISH", "pb:news", "[1]"});
}

TEST_CASE("the store's rules hold before anything reaches the backend") {
  // Values are JSON text, as with the embedded store.
  auto not_json = plan({"SET", "k", "not json"});
  CHECK(not_json.action == Action::reply);
  CHECK(not_json.reply.starts_with("-"));
  auto unknown = plan({"FLUSHALL"});
  CHECK(unknown.action == Action::reply);
  CHECK(unknown.reply.starts_with("-ERR"));
  auto config = plan({"CONFIG", "GET", "*"});
  CHECK(config.action == Action::reply);
  // A subscriber's PING is answered by the relay (the backend's subscriber
  // connection is shared).
  auto ping = plan({"PING"}, "pb:", true);
  CHECK(ping.action == Action::reply);
  CHECK(plan({"PING"}).action == Action::forward);
}

TEST_CASE("KEYS, SCAN and DBSIZE scan only the client's prefix, escaped") {
  auto keys = plan({"KEYS", "user:*"}, "pb:*odd[1]:");
  CHECK(keys.action == Action::keys);
  CHECK(keys.pattern == R"(pb:\*odd\[1\]:user:*)");
  auto scan = plan({"SCAN", "0", "MATCH", "user:*", "COUNT", "10"}, "pb:*odd[1]:");
  CHECK(scan.action == Action::scan);
  CHECK(scan.pattern == R"(pb:\*odd\[1\]:user:*)");
  CHECK(plan({"SCAN", "0"}).pattern == "pb:*");
  // A cursor the relay never gave, another type, or a bad request: answered here.
  for (std::vector<std::string> args : {std::vector<std::string>{"SCAN", "5"}, {"SCAN", "0", "TYPE", "list"}}) {
    auto done = plan(args);
    CHECK(done.action == Action::reply);
    CHECK(done.reply == "*2\r\n$1\r\n0\r\n*0\r\n");
  }
  CHECK(plan({"SCAN", "0", "MATCH"}).reply == "-ERR syntax error\r\n");
  CHECK(plan({"SCAN", "x"}).reply == "-ERR invalid cursor\r\n");
  auto size = plan({"DBSIZE"});
  CHECK(size.action == Action::dbsize);
  CHECK(size.pattern == "pb:*");
  CHECK(store::relay::strip_prefix("pb:count", "pb:") == std::optional<std::string_view>("count"));
  CHECK_FALSE(store::relay::strip_prefix("other:count", "pb:").has_value());
}

TEST_CASE("Sentinel's answers: the master's address, or why not") {
  std::string error;
  auto address = store::relay::parse_master_address(reply("*2\r\n$8\r\n10.0.0.5\r\n$4\r\n6380\r\n"), error);
  REQUIRE(address.has_value());
  CHECK(address->host == "10.0.0.5");
  CHECK(address->port == 6380);
  CHECK(address->to_string() == "10.0.0.5:6380");
  CHECK_FALSE(store::relay::parse_master_address(reply("*-1\r\n"), error).has_value());
  CHECK(error.find("does not know") != std::string::npos);
  CHECK_FALSE(store::relay::parse_master_address(reply("*2\r\n$3\r\na b\r\n$4\r\n6380\r\n"), error).has_value());
  CHECK_FALSE(store::relay::parse_master_address(reply("*2\r\n$1\r\nh\r\n$5\r\n70000\r\n"), error).has_value());
  CHECK_FALSE(store::relay::parse_master_address(reply("-ERR no such master\r\n"), error).has_value());

  CHECK(store::relay::parse_role(reply("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"), error) == std::optional<std::string>("master"));
  CHECK(store::relay::parse_role(reply("*5\r\n$5\r\nslave\r\n$1\r\nh\r\n:1\r\n$9\r\nconnected\r\n:0\r\n"), error) ==
        std::optional<std::string>("slave"));
  CHECK_FALSE(store::relay::parse_role(reply("$6\r\nmaster\r\n"), error).has_value());

  auto moved = store::relay::parse_switch_master("mymaster 127.0.0.1 6379 127.0.0.1 6380", "mymaster");
  REQUIRE(moved.has_value());
  CHECK(moved->port == 6380);
  CHECK_FALSE(store::relay::parse_switch_master("other 127.0.0.1 6379 127.0.0.1 6380", "mymaster").has_value());
  CHECK_FALSE(store::relay::parse_switch_master("mymaster 127.0.0.1 6379 127.0.0.1", "mymaster").has_value());
}

TEST_CASE("reconnection backs off exponentially to 5 s, with jitter in the upper half") {
  CHECK(store::relay::backoff_delay_ms(0, 0.0) == 50);
  CHECK(store::relay::backoff_delay_ms(0, 0.999) <= 100);
  CHECK(store::relay::backoff_delay_ms(1, 0.0) == 100);
  CHECK(store::relay::backoff_delay_ms(3, 0.0) == 400);
  for (unsigned failures : {6u, 7u, 50u, 1000u}) {
    CHECK(store::relay::backoff_delay_ms(failures, 0.0) == 2500);
    CHECK(store::relay::backoff_delay_ms(failures, 1.0) == store::relay::Backend::kMaxBackoffMs);
  }
}
