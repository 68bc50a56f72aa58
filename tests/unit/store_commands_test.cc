#include <doctest/doctest.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "common/keyed_hash.h"
#include "store/commands.h"
#include "store/glob.h"
#include "store/keyspace.h"
#include "store/memory.h"
#include "store/pubsub.h"

using store::ClientId;

namespace {

constexpr ClientId kAlice = 1;
constexpr ClientId kBob = 2;
constexpr ClientId kCarol = 3;

struct Store {
  explicit Store(size_t max_memory = store::kDefaultMaxMemoryBytes, store::PubSubLimits pubsub_limits = {},
                 store::ExecutorLimits limits = {})
      : memory(max_memory), pubsub(memory, pubsub_limits), executor(keyspace, pubsub, memory, limits) {
    for (ClientId id : {kAlice, kBob, kCarol}) executor.client_connected(id);
  }

  std::string run(ClientId client, std::vector<std::string> args) {
    std::string reply;
    last = executor.execute(client, args, reply);
    return reply;
  }

  store::MemoryAccount memory;
  store::Keyspace keyspace{memory};
  store::PubSub pubsub;
  store::Executor executor;
  store::Outcome last;
};

std::string bulk(const std::string& text) { return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n"; }
std::string frame(const std::string& kind, const std::string& channel, int count) {
  return "*3\r\n" + bulk(kind) + bulk(channel) + ":" + std::to_string(count) + "\r\n";
}

// An array reply's bulk strings, sorted: KEYS' order is unspecified.
std::vector<std::string> sorted_names(const std::string& reply) {
  std::vector<std::string> names;
  size_t pos = reply.find("\r\n") + 2;
  while (pos < reply.size()) {
    size_t header_end = reply.find("\r\n", pos);
    size_t length = std::stoul(reply.substr(pos + 1, header_end - pos - 1));
    names.push_back(reply.substr(header_end + 2, length));
    pos = header_end + 2 + length + 2;
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Step {
  ClientId client;
  std::vector<std::string> args;
  std::string reply;
};

void run_steps(Store& store, const std::vector<Step>& steps) {
  for (const auto& step : steps) {
    std::string command;
    for (const auto& arg : step.args) command += arg + " ";
    CAPTURE(command);
    CHECK(store.run(step.client, step.args) == step.reply);
  }
}

}  // namespace

TEST_CASE("connection commands") {
  Store store;
  run_steps(store, {
                       {kAlice, {"PING"}, "+PONG\r\n"},
                       {kAlice, {"ping", "hi"}, "$2\r\nhi\r\n"},
                       {kAlice, {"PING", "a", "b"}, "-ERR wrong number of arguments for 'ping' command\r\n"},
                       {kAlice, {"ECHO", ""}, "$0\r\n\r\n"},
                       {kAlice, {"echo", "x y"}, "$3\r\nx y\r\n"},
                       {kAlice, {"ECHO"}, "-ERR wrong number of arguments for 'echo' command\r\n"},
                       {kAlice, {"COMMAND"}, "*0\r\n"},
                       {kAlice, {"COMMAND", "DOCS"}, "*0\r\n"},
                       {kAlice, {"command", "docs", "get"}, "*0\r\n"},
                       {kAlice, {"COMMAND", "COUNT"}, ":15\r\n"},
                       {kAlice, {"COMMAND", "nope"}, "-ERR unknown subcommand 'nope'. Try COMMAND HELP.\r\n"},
                   });
  CHECK_FALSE(store.last.close_connection);
  CHECK(store.run(kAlice, {"QUIT"}) == "+OK\r\n");
  CHECK(store.last.close_connection);
}

TEST_CASE("unknown commands and wrong arity are worded as Redis 7 words them") {
  Store store;
  run_steps(store,
            {
                {kAlice, {"FLUSHALL"}, "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n"},
                {kAlice, {"hset", "h", "f", "v"}, "-ERR unknown command 'hset', with args beginning with: 'h' 'f' 'v' \r\n"},
                {kAlice, {"x\r\ny", "a\nb"}, "-ERR unknown command 'x  y', with args beginning with: 'a b' \r\n"},
                {kAlice, {"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
                {kAlice, {"get", "a", "b"}, "-ERR wrong number of arguments for 'get' command\r\n"},
                {kAlice, {"SET", "k"}, "-ERR wrong number of arguments for 'set' command\r\n"},
                {kAlice, {"DEL"}, "-ERR wrong number of arguments for 'del' command\r\n"},
                {kAlice, {"EXISTS"}, "-ERR wrong number of arguments for 'exists' command\r\n"},
                {kAlice, {"KEYS"}, "-ERR wrong number of arguments for 'keys' command\r\n"},
                {kAlice, {"DBSIZE", "x"}, "-ERR wrong number of arguments for 'dbsize' command\r\n"},
                {kAlice, {"PUBLISH", "c"}, "-ERR wrong number of arguments for 'publish' command\r\n"},
                {kAlice, {"SUBSCRIBE"}, "-ERR wrong number of arguments for 'subscribe' command\r\n"},
            });
  // Quoted arguments stop once 128 bytes have been quoted, each cut to what is left.
  std::string long_arg(200, 'a');
  std::string reply = store.run(kAlice, {"nope", long_arg, "b"});
  CHECK(reply == "-ERR unknown command 'nope', with args beginning with: '" + std::string(128, 'a') + "' \r\n");
  // A huge name is neither lowercased nor echoed whole.
  std::string long_name(1 << 20, 'Z');
  reply = store.run(kAlice, {long_name});
  CHECK(reply == "-ERR unknown command '" + std::string(128, 'Z') + "', with args beginning with: \r\n");
}

TEST_CASE("string commands") {
  Store store;
  run_steps(store, {
                       {kAlice, {"GET", "count"}, "$-1\r\n"},
                       {kAlice, {"SET", "count", "3"}, "+OK\r\n"},
                       {kBob, {"get", "count"}, "$1\r\n3\r\n"},
                       {kAlice, {"SET", "count", "4", "NX"}, "$-1\r\n"},
                       {kAlice, {"GET", "count"}, "$1\r\n3\r\n"},
                       {kAlice, {"SET", "count", "5", "xx"}, "+OK\r\n"},
                       {kAlice, {"GET", "count"}, "$1\r\n5\r\n"},
                       {kAlice, {"SET", "other", "1", "XX"}, "$-1\r\n"},
                       {kAlice, {"EXISTS", "other"}, ":0\r\n"},
                       {kAlice, {"SET", "other", "1", "nx"}, "+OK\r\n"},
                       {kAlice, {"SET", "other", "2", "NX", "NX"}, "$-1\r\n"},
                       {kAlice, {"SET", "other", "2", "NX", "XX"}, "-ERR syntax error\r\n"},
                       {kAlice, {"SET", "other", "2", "XX", "NX"}, "-ERR syntax error\r\n"},
                       {kAlice, {"SET", "other", "2", "EX", "10"}, "-ERR syntax error\r\n"},
                       {kAlice, {"SET", "user", "{\"name\":\"bob\",\"tags\":[1,2]}"}, "+OK\r\n"},
                       {kAlice, {"GET", "user"}, bulk("{\"name\":\"bob\",\"tags\":[1,2]}")},
                       {kAlice, {"DBSIZE"}, ":3\r\n"},
                       {kAlice, {"EXISTS", "count", "user", "missing", "count"}, ":3\r\n"},
                       {kAlice, {"DEL", "count", "missing", "count"}, ":1\r\n"},
                       {kAlice, {"GET", "count"}, "$-1\r\n"},
                       {kAlice, {"DBSIZE"}, ":2\r\n"},
                   });
}

TEST_CASE("values must be JSON text") {
  Store store;
  struct Case {
    std::string value;
    bool valid;
  };
  const Case cases[] = {
      {"3", true},          {"-1.5e3", true}, {"\"bob\"", true}, {"null", true},      {"true", true},
      {"[1,{\"a\":[]}]", true}, {" {} ", true},  {"bob", false},   {"", false},         {"'bob'", false},
      {"{", false},         {"1 2", false},   {"{\"a\":1,}", false}, {"\"\xff\"", false}, {"NaN", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    std::string reply = store.run(kAlice, {"SET", "k", c.value});
    CHECK(reply == (c.valid ? "+OK\r\n" : "-ERR value is not valid JSON\r\n"));
    reply = store.run(kAlice, {"PUBLISH", "chan", c.value});
    CHECK(reply == (c.valid ? ":0\r\n" : "-ERR value is not valid JSON\r\n"));
  }
  // A rejected write leaves the old value in place.
  store.run(kAlice, {"SET", "k", "1"});
  store.run(kAlice, {"SET", "k", "not json"});
  CHECK(store.run(kAlice, {"GET", "k"}) == "$1\r\n1\r\n");
}

TEST_CASE("the memory limit charges each entry its real cost and refuses writes past it") {
  const size_t entry = store::Keyspace::entry_bytes(4, 6);
  // A byte short of what three entries and their table take.
  size_t three = 0;
  {
    Store probe;
    for (const char* key : {"aaaa", "bbbb", "cccc"}) REQUIRE(probe.keyspace.set(key, "123456"));
    three = probe.memory.used_bytes();
  }
  Store store(three - 1);
  const std::string oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
  CHECK(store.run(kAlice, {"SET", "aaaa", "123456"}) == "+OK\r\n");
  CHECK(store.keyspace.charged_bytes() >= entry);
  CHECK(store.memory.used_bytes() == store.keyspace.charged_bytes());
  CHECK(store.run(kAlice, {"SET", "bbbb", "123456"}) == "+OK\r\n");
  size_t full = store.memory.used_bytes();
  CHECK(store.run(kAlice, {"SET", "cccc", "123456"}) == oom);
  CHECK_FALSE(store.last.close_connection);
  CHECK(store.last.rejected_out_of_memory);
  CHECK(store.memory.used_bytes() == full);
  CHECK(store.run(kAlice, {"EXISTS", "cccc"}) == ":0\r\n");
  // Reads go on.
  CHECK(store.run(kBob, {"GET", "aaaa"}) == "$6\r\n123456\r\n");
  CHECK(store.run(kBob, {"KEYS", "*"}).starts_with("*2\r\n"));
  // Replacing a value needs room for the difference only; a longer one than
  // fits is refused and the old value stays.
  CHECK(store.run(kAlice, {"SET", "aaaa", "12345"}) == "+OK\r\n");
  CHECK(store.run(kAlice, {"SET", "aaaa", "\"" + std::string(4096, 'x') + "\""}) == oom);
  CHECK(store.run(kAlice, {"GET", "aaaa"}) == "$5\r\n12345\r\n");
  // NX that would not write is not an OOM.
  CHECK(store.run(kAlice, {"SET", "aaaa", "1", "NX"}) == "$-1\r\n");
  // Deleting gives the room back.
  CHECK(store.run(kAlice, {"DEL", "bbbb"}) == ":1\r\n");
  CHECK(store.run(kAlice, {"SET", "cccc", "123456"}) == "+OK\r\n");
  CHECK(store.run(kAlice, {"INFO", "stats"}).find("rejected_out_of_memory:2\r\n") != std::string::npos);
  CHECK(store.keyspace.recount_bytes() == store.keyspace.charged_bytes());
}

TEST_CASE("many tiny keys hit the limit at their real cost, not their payload's") {
  // Before the overhead was counted a key of 7 bytes with a value of 1 cost 8
  // bytes, and a 1 MiB limit let in 131072 of them (tens of MiB for real).
  constexpr size_t kLimit = 1024 * 1024;
  Store store(kLimit);
  size_t stored = 0;
  while (true) {
    std::string key = "k" + std::to_string(1000000 + stored);
    if (store.run(kAlice, {"SET", key, "1"}) != "+OK\r\n") break;
    ++stored;
    REQUIRE(store.memory.used_bytes() <= kLimit);
  }
  CAPTURE(stored);
  CHECK(store.last.rejected_out_of_memory);
  CHECK(stored * store::Keyspace::entry_bytes(8, 1) < kLimit);
  CHECK(stored > kLimit / (2 * store::Keyspace::entry_bytes(8, 1)));
  CHECK(store.keyspace.recount_bytes() == store.keyspace.charged_bytes());
  // Deleting every key gives back all but a small table.
  for (size_t i = 0; i < stored; ++i) {
    std::string key = "k" + std::to_string(1000000 + i);
    REQUIRE(store.keyspace.erase(key));
  }
  CHECK(store.memory.used_bytes() < 4096);
  CHECK(store.keyspace.recount_bytes() == store.keyspace.charged_bytes());
}

TEST_CASE("the charged figure follows what malloc really hands out") {
  // glibc only: under a sanitizer's allocator mallinfo2 reports nothing.
  // In-use heap chunks plus mmap'd ones (large bucket arrays).
  auto allocated = [] {
    auto info = mallinfo2();
    return info.uordblks + info.hblkhd;
  };
  if (allocated() == 0) return;
  store::MemoryAccount memory(size_t{1} << 40);
  auto keyspace = std::make_unique<store::Keyspace>(memory);
  size_t before = allocated();
  for (int i = 0; i < 50000; ++i) {
    // Tiny keys, keys and values past the inline capacity, and large ones.
    std::string key = "key:" + std::to_string(i) + (i % 3 == 0 ? std::string(20 + i % 50, 'k') : "");
    std::string value = i % 5 == 0 ? "\"" + std::string(100 + i % 900, 'v') + "\"" : std::to_string(i);
    REQUIRE(keyspace->set(key, value));
  }
  auto measured = static_cast<double>(allocated() - before);
  auto charged = static_cast<double>(keyspace->charged_bytes());
  CAPTURE(measured);
  CAPTURE(charged);
  CHECK(charged >= measured * 0.95);
  CHECK(charged <= measured * 1.05);

  store::PubSub pubsub(memory);
  before = allocated();
  for (int i = 0; i < 20000; ++i) {
    REQUIRE(pubsub.subscribe(static_cast<ClientId>(i % 50), "channel:" + std::to_string(i % 4000) +
                                                                std::string(i % 40, 'c')) ==
            store::SubscribeResult::ok);
  }
  measured = static_cast<double>(allocated() - before);
  charged = static_cast<double>(pubsub.charged_bytes());
  CHECK(charged >= measured * 0.95);
  CHECK(charged <= measured * 1.05);
}

TEST_CASE("a replaced value is charged at its new size") {
  Store store;
  std::string big = "\"" + std::string(100000, 'x') + "\"";
  REQUIRE(store.run(kAlice, {"SET", "k", big}) == "+OK\r\n");
  size_t with_big = store.memory.used_bytes();
  REQUIRE(store.run(kAlice, {"SET", "k", "1"}) == "+OK\r\n");
  CHECK(store.memory.used_bytes() < with_big - 100000);
  CHECK(store.keyspace.recount_bytes() == store.keyspace.charged_bytes());
}

TEST_CASE("growing a table never costs more than the check before it assumed") {
  // libstdc++ rounds bucket counts up to a prime from its table; memory.h
  // bounds what it picks.
  for (size_t n = 1; n < (size_t{1} << 20); n += 1 + n / 256) {
    store::StringMap<int> map;
    map.rehash(n);
    CAPTURE(n);
    REQUIRE(map.bucket_count() <= store::bucket_count_bound(n));
  }
  // Filled to the limit one key at a time, for many limits: the growth of the
  // bucket array must never take the total past the limit.
  for (size_t limit = 2000; limit < 400000; limit = limit * 3 / 2 + 7) {
    store::MemoryAccount memory(limit);
    store::Keyspace keyspace(memory);
    int i = 0;
    while (keyspace.set("key" + std::to_string(i), "1")) ++i;
    CAPTURE(limit);
    CHECK(memory.used_bytes() <= limit);
    CHECK(keyspace.recount_bytes() == keyspace.charged_bytes());
  }
}

TEST_CASE("hash flooding: keys and channels are hashed with the keyed SipHash") {
  // With std::hash a client can pick keys or channels that share one bucket
  // and make every lookup a scan of all of them.
  static_assert(std::is_same_v<store::Keyspace::hasher, common::KeyedStringHash>);
  static_assert(std::is_same_v<store::StringMap<int>::hasher, common::KeyedStringHash>);
  static_assert(std::is_same_v<store::PubSub::SubscriberMap::hasher, common::KeyedStringHash>);
  CHECK(store::StringMap<int>::hasher{}("abc") == common::keyed_hash("abc", 3));

  // Many keys (and many collisions of any 16-bit slice of the hash) still work.
  Store store;
  constexpr int kKeys = 200000;
  for (int i = 0; i < kKeys; ++i) REQUIRE(store.keyspace.set("user:" + std::to_string(i), std::to_string(i)));
  CHECK(store.run(kAlice, {"DBSIZE"}) == ":" + std::to_string(kKeys) + "\r\n");
  for (int i = 0; i < kKeys; i += 997) {
    const std::string* value = store.keyspace.find("user:" + std::to_string(i));
    REQUIRE(value != nullptr);
    CHECK(*value == std::to_string(i));
  }
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(store.pubsub.subscribe(kBob, "room:" + std::to_string(i)) == store::SubscribeResult::ok);
  }
  CHECK(store.pubsub.subscribers("room:4321") == std::vector<ClientId>{kBob});
}

TEST_CASE("KEYS returns the keys matching a glob") {
  Store store;
  for (std::string key : {"user:1", "user:2", "user:10", "session", "a*b", "h\\x"}) {
    REQUIRE(store.run(kAlice, {"SET", key, "1"}) == "+OK\r\n");
  }
  auto keys_of = [&](const std::string& pattern) { return sorted_names(store.run(kAlice, {"KEYS", pattern})); };
  using Keys = std::vector<std::string>;
  CHECK(keys_of("*") == Keys{"a*b", "h\\x", "session", "user:1", "user:10", "user:2"});
  CHECK(keys_of("user:?") == Keys{"user:1", "user:2"});
  CHECK(keys_of("user:*") == Keys{"user:1", "user:10", "user:2"});
  CHECK(keys_of("a\\*b") == Keys{"a*b"});
  CHECK(keys_of("nothing*") == Keys{});
  CHECK(store.run(kAlice, {"KEYS", "nothing"}) == "*0\r\n");
}

TEST_CASE("SCAN answers from cursor 0 whole, with MATCH, COUNT and TYPE read as Redis reads them") {
  Store store;
  for (std::string key : {"user:1", "user:2", "session"}) REQUIRE(store.run(kAlice, {"SET", key, "1"}) == "+OK\r\n");
  // The names after the cursor "0", sorted: the order is unspecified.
  auto scanned = [&](std::vector<std::string> args) {
    std::string reply = store.run(kAlice, args);
    std::string cursor = "*2\r\n$1\r\n0\r\n";
    REQUIRE(reply.starts_with(cursor));
    return sorted_names(reply.substr(cursor.size()));
  };
  using Keys = std::vector<std::string>;
  CHECK(scanned({"SCAN", "0"}) == Keys{"session", "user:1", "user:2"});
  CHECK(scanned({"scan", "0", "match", "user:*", "COUNT", "1"}) == Keys{"user:1", "user:2"});
  CHECK(scanned({"SCAN", "0", "MATCH", "nothing*"}) == Keys{});
  CHECK(scanned({"SCAN", "0", "TYPE", "STRING", "MATCH", "s*"}) == Keys{"session"});
  // Every value is a string; a cursor the store never gave ends the iteration.
  CHECK(store.run(kAlice, {"SCAN", "0", "TYPE", "hash"}) == "*2\r\n$1\r\n0\r\n*0\r\n");
  CHECK(store.run(kAlice, {"SCAN", "17"}) == "*2\r\n$1\r\n0\r\n*0\r\n");
  run_steps(store, {
                       {kAlice, {"SCAN"}, "-ERR wrong number of arguments for 'scan' command\r\n"},
                       {kAlice, {"SCAN", "x"}, "-ERR invalid cursor\r\n"},
                       {kAlice, {"SCAN", "-1"}, "-ERR invalid cursor\r\n"},
                       {kAlice, {"SCAN", "18446744073709551616"}, "-ERR invalid cursor\r\n"},
                       {kAlice, {"SCAN", "0", "MATCH"}, "-ERR syntax error\r\n"},
                       {kAlice, {"SCAN", "0", "COUNT", "ten"}, "-ERR value is not an integer or out of range\r\n"},
                       {kAlice, {"SCAN", "0", "COUNT", "0"}, "-ERR syntax error\r\n"},
                       {kAlice, {"SCAN", "0", "SIZE", "1"}, "-ERR syntax error\r\n"},
                   });
  // The same work budget as KEYS.
  Store small(store::kDefaultMaxMemoryBytes, {}, store::ExecutorLimits{.keys_work_budget = 2});
  for (std::string key : {"a", "b", "c"}) REQUIRE(small.run(kAlice, {"SET", key, "1"}) == "+OK\r\n");
  CHECK(small.run(kAlice, {"SCAN", "0"}) == "-ERR SCAN gave up after 2 matching steps; use a simpler pattern\r\n");
}

TEST_CASE("glob_match follows Redis's pattern rules") {
  struct Case {
    const char* pattern;
    const char* text;
    bool matches;
  };
  const Case cases[] = {
      {"*", "", true},           {"*", "anything", true},    {"", "", true},
      {"", "a", false},          {"a", "a", true},           {"a", "b", false},
      {"?", "a", true},          {"?", "", false},           {"??", "a", false},
      {"h?llo", "hello", true},  {"h*llo", "hllo", true},    {"h*llo", "heeeello", true},
      {"h*llo", "hello!", false}, {"*llo", "hello", true},   {"he*", "hello", true},
      {"*l*o*", "hello", true},  {"**", "x", true},          {"a*b*c", "abc", true},
      {"a*b*c", "acb", false},   {"a*b*c", "aXbYbZc", true}, {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false}, {"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false},
      {"h[a-b]llo", "hbllo", true}, {"h[a-b]llo", "hcllo", false}, {"h[b-a]llo", "hallo", true},
      {"[\\]]", "]", true},      {"[\\-]", "-", true},       {"[a-]", "a", true},
      {"[]a]", "a", false},      {"[abc", "b", true},        {"[abc", "bc", false},
      {"\\*", "*", true},        {"\\*", "a", false},        {"\\?", "?", true},
      {"a\\", "a\\", true},      {"\\[a]", "[a]", true},     {"*\\*", "ab*", true},
      {"user:[0-9]*", "user:1x", true}, {"user:[0-9]*", "user:x1", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(c.text);
    CHECK(store::glob_match(c.pattern, c.text) == c.matches);
  }
  // Many stars against a long non-matching text must not backtrack exponentially.
  std::string stars;
  for (int i = 0; i < 40; ++i) stars += "a*";
  stars += "b";
  CHECK_FALSE(store::glob_match(stars, std::string(5000, 'a')));
}

TEST_CASE("glob matching is metered, so its work is bounded per call") {
  // "*aaaa...b" against "aaaa...": every position the star tries matches the
  // run of a's before failing, O(pattern x text).
  std::string pattern = "*" + std::string(300, 'a') + "b";
  std::string text(3000, 'a');
  uint64_t budget = uint64_t{1} << 40;
  CHECK(store::glob_match(pattern, text, budget) == store::GlobResult::no_match);
  uint64_t spent = (uint64_t{1} << 40) - budget;
  CHECK(spent > 300 * 2000);
  CHECK(spent <= (text.size() + 1) * (pattern.size() + 2));
  budget = 10000;
  CHECK(store::glob_match(pattern, text, budget) == store::GlobResult::out_of_budget);
  CHECK(budget == 0);
  // Trailing stars end the work at once.
  budget = 100;
  CHECK(store::glob_match("a*", std::string(1 << 20, 'a'), budget) == store::GlobResult::match);
  // A bracket class costs its length every time it is tried.
  std::string wide_class = "*[" + std::string(1000, 'x') + "]b";
  budget = uint64_t{1} << 40;
  CHECK(store::glob_match(wide_class, std::string(1000, 'x'), budget) == store::GlobResult::no_match);
  CHECK((uint64_t{1} << 40) - budget > 1000 * 1000);
}

TEST_CASE("KEYS with a pathological pattern over long keys fails with an error instead of stalling the store") {
  Store store;
  // 40 keys of 20000 bytes: without a budget this pattern costs about 40 x
  // 20000 x 1000 = 800 million steps, seconds in which no other client is
  // served.
  for (int i = 0; i < 40; ++i) REQUIRE(store.keyspace.set(std::string(20000, 'a') + std::to_string(i), "1"));
  std::string pattern = "*" + std::string(1000, 'a') + "b";
  CHECK(store.run(kAlice, {"KEYS", pattern}) ==
        "-ERR KEYS gave up after 100000000 matching steps; use a simpler pattern\r\n");
  // Ordinary patterns over the same keys are answered.
  CHECK(store.run(kAlice, {"KEYS", "*"}).starts_with("*40\r\n"));
  CHECK(store.run(kAlice, {"KEYS", "a*1"}).starts_with("*4\r\n"));  // 1, 11, 21, 31
  CHECK(store.run(kAlice, {"KEYS", "b*"}) == "*0\r\n");
  // The budget is per call, so the next call starts afresh, and it counts
  // keys visited too.
  Store small(store::kDefaultMaxMemoryBytes, {}, store::ExecutorLimits{.keys_work_budget = 10});
  for (int i = 0; i < 10; ++i) REQUIRE(small.keyspace.set("k" + std::to_string(i), "1"));
  CHECK(small.run(kAlice, {"KEYS", "*"}).starts_with("*10\r\n"));
  REQUIRE(small.keyspace.set("k10", "1"));
  CHECK(small.run(kAlice, {"KEYS", "*"}) == "-ERR KEYS gave up after 10 matching steps; use a simpler pattern\r\n");
}

TEST_CASE("subscribe and unsubscribe reply with Redis's frames") {
  Store store;
  run_steps(store, {
                       {kAlice, {"UNSUBSCRIBE"}, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"},
                       {kAlice, {"SUBSCRIBE", "news", "chat", "news"},
                        frame("subscribe", "news", 1) + frame("subscribe", "chat", 2) + frame("subscribe", "news", 2)},
                       {kAlice, {"UNSUBSCRIBE", "news", "nope"},
                        frame("unsubscribe", "news", 1) + frame("unsubscribe", "nope", 1)},
                       {kAlice, {"SUBSCRIBE", "alpha"}, frame("subscribe", "alpha", 2)},
                       // Without arguments: every channel, in byte order.
                       {kAlice, {"UNSUBSCRIBE"}, frame("unsubscribe", "alpha", 1) + frame("unsubscribe", "chat", 0)},
                       {kAlice, {"UNSUBSCRIBE"}, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"},
                       {kAlice, {"UNSUBSCRIBE", "x"}, frame("unsubscribe", "x", 0)},
                       {kAlice, {"GET", "k"}, "$-1\r\n"},
                   });
}

TEST_CASE("subscribe mode allows only SUBSCRIBE, UNSUBSCRIBE, PING and QUIT") {
  Store store;
  store.run(kAlice, {"SUBSCRIBE", "news"});
  CHECK(store.executor.in_subscribe_mode(kAlice));
  auto refusal = [](const std::string& name) {
    return "-ERR Can't execute '" + name +
           "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";
  };
  run_steps(store, {
                       {kAlice, {"GET", "k"}, refusal("get")},
                       {kAlice, {"set", "k", "1"}, refusal("set")},
                       {kAlice, {"PUBLISH", "news", "1"}, refusal("publish")},
                       {kAlice, {"Info"}, refusal("info")},
                       // Existence and arity are checked first, as in Redis.
                       {kAlice, {"NOPE"}, "-ERR unknown command 'NOPE', with args beginning with: \r\n"},
                       {kAlice, {"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
                       {kAlice, {"PING"}, "*2\r\n$4\r\npong\r\n$0\r\n\r\n"},
                       {kAlice, {"PING", "hi"}, "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"},
                       {kAlice, {"SUBSCRIBE", "more"}, frame("subscribe", "more", 2)},
                       {kAlice, {"UNSUBSCRIBE"}, frame("unsubscribe", "more", 1) + frame("unsubscribe", "news", 0)},
                       // Back in normal mode.
                       {kAlice, {"PING"}, "+PONG\r\n"},
                       {kAlice, {"GET", "k"}, "$-1\r\n"},
                   });
  store.run(kAlice, {"SUBSCRIBE", "news"});
  CHECK(store.run(kAlice, {"QUIT"}) == "+OK\r\n");
  CHECK(store.last.close_connection);
}

TEST_CASE("PUBLISH fans out to every subscriber of the channel") {
  Store store;
  store.run(kAlice, {"SUBSCRIBE", "news", "chat"});
  store.run(kBob, {"SUBSCRIBE", "news"});
  const std::string payload = "{\"headline\":\"hi\"}";

  CHECK(store.run(kCarol, {"PUBLISH", "news", payload}) == ":2\r\n");
  // Unscoped subscribers all see the channel under one name: one delivery.
  REQUIRE(store.last.deliveries.size() == 1);
  CHECK(store.last.deliveries[0].recipients == std::vector<ClientId>{kAlice, kBob});
  CHECK(store.last.deliveries[0].message == "*3\r\n" + bulk("message") + bulk("news") + bulk(payload));

  CHECK(store.run(kCarol, {"PUBLISH", "chat", "1"}) == ":1\r\n");
  REQUIRE(store.last.deliveries.size() == 1);
  CHECK(store.last.deliveries[0].recipients == std::vector<ClientId>{kAlice});

  CHECK(store.run(kCarol, {"PUBLISH", "empty", "1"}) == ":0\r\n");
  CHECK(store.last.deliveries.empty());

  // A client that goes away stops receiving, and its subscriptions are gone.
  store.executor.client_disconnected(kAlice);
  CHECK(store.run(kCarol, {"PUBLISH", "news", "1"}) == ":1\r\n");
  REQUIRE(store.last.deliveries.size() == 1);
  CHECK(store.last.deliveries[0].recipients == std::vector<ClientId>{kBob});
  CHECK(store.run(kCarol, {"PUBLISH", "chat", "1"}) == ":0\r\n");
  CHECK(store.pubsub.channel_count() == 1);
  CHECK(store.pubsub.subscribed_client_count() == 1);
}

TEST_CASE("PubSub keeps both directions consistent") {
  store::MemoryAccount memory;
  store::PubSub pubsub(memory);
  using store::SubscribeResult;
  CHECK(pubsub.subscribe(1, "a") == SubscribeResult::ok);
  CHECK(pubsub.subscribe(1, "a") == SubscribeResult::ok);
  CHECK(pubsub.subscribe(1, "b") == SubscribeResult::ok);
  CHECK(pubsub.subscribe(2, "a") == SubscribeResult::ok);
  CHECK(pubsub.subscription_count(1) == 2);
  CHECK(pubsub.is_subscribed(1, "b"));
  CHECK_FALSE(pubsub.is_subscribed(2, "b"));
  CHECK(pubsub.channels_of(1) == std::vector<std::string>{"a", "b"});
  CHECK(pubsub.subscribers("a") == std::vector<ClientId>{1, 2});
  CHECK(pubsub.recount_bytes() == pubsub.charged_bytes());
  CHECK(memory.used_bytes(store::MemoryAccount::Use::pubsub) == pubsub.charged_bytes());
  CHECK(pubsub.unsubscribe(1, "a"));
  CHECK_FALSE(pubsub.unsubscribe(1, "a"));
  CHECK_FALSE(pubsub.unsubscribe(3, "a"));
  CHECK(pubsub.subscribers("a") == std::vector<ClientId>{2});
  pubsub.remove_client(2);
  CHECK(pubsub.subscribers("a").empty());
  CHECK(pubsub.channel_count() == 1);
  CHECK(pubsub.subscribed_client_count() == 1);
  CHECK(pubsub.recount_bytes() == pubsub.charged_bytes());
  pubsub.remove_client(1);
  CHECK(pubsub.channel_count() == 0);
  CHECK(pubsub.subscribed_client_count() == 0);
  CHECK(pubsub.recount_bytes() == pubsub.charged_bytes());
  CHECK(pubsub.charged_bytes() < 1024);  // the tables' bucket arrays at most
}

TEST_CASE("subscriptions per client and channels in all are capped") {
  Store store(store::kDefaultMaxMemoryBytes, store::PubSubLimits{.max_subscriptions_per_client = 3, .max_channels = 4});
  run_steps(store, {
                       {kAlice, {"SUBSCRIBE", "a", "b", "a"},
                        frame("subscribe", "a", 1) + frame("subscribe", "b", 2) + frame("subscribe", "a", 2)},
                       // All or nothing: c would fit, d would not.
                       {kAlice, {"SUBSCRIBE", "c", "d"}, "-ERR max subscriptions per client reached (3)\r\n"},
                       {kAlice, {"SUBSCRIBE", "b", "c"}, frame("subscribe", "b", 2) + frame("subscribe", "c", 3)},
                       // Channels it already has cost nothing.
                       {kAlice, {"SUBSCRIBE", "a"}, frame("subscribe", "a", 3)},
                       {kBob, {"SUBSCRIBE", "a", "x"}, frame("subscribe", "a", 1) + frame("subscribe", "x", 2)},
                       {kBob, {"SUBSCRIBE", "y"}, "-ERR max number of channels reached (4)\r\n"},
                       {kBob, {"UNSUBSCRIBE", "x"}, frame("unsubscribe", "x", 1)},
                       {kCarol, {"SUBSCRIBE", "y"}, frame("subscribe", "y", 1)},
                   });
  CHECK(store.pubsub.channel_count() == 4);
  CHECK(store.pubsub.subscription_count(kAlice) == 3);
  // A refused SUBSCRIBE leaves a client in the mode it was in.
  CHECK(store.run(kBob, {"UNSUBSCRIBE"}) == frame("unsubscribe", "a", 0));
  CHECK(store.run(kBob, {"SUBSCRIBE", "z"}) == "-ERR max number of channels reached (4)\r\n");
  CHECK_FALSE(store.executor.in_subscribe_mode(kBob));
  CHECK(store.run(kBob, {"GET", "k"}) == "$-1\r\n");
}

TEST_CASE("subscriptions are charged to the memory limit") {
  Store store(64 * 1024);
  std::string name(1000, 'c');
  int subscribed = 0;
  std::string reply;
  while ((reply = store.run(kAlice, {"SUBSCRIBE", name + std::to_string(subscribed)})).starts_with("*3")) ++subscribed;
  CHECK(reply == "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  CHECK(store.last.rejected_out_of_memory);
  CHECK(subscribed < 64);  // each costs at least twice its name
  CHECK(subscribed > 16);
  CHECK(store.memory.used_bytes() <= 64 * 1024);
  CHECK(store.run(kBob, {"SET", "k", "\"" + std::string(2000, 'x') + "\""}).starts_with("-OOM"));
  store.executor.client_disconnected(kAlice);
  CHECK(store.run(kBob, {"SET", "k", "\"" + std::string(2000, 'x') + "\""}) == "+OK\r\n");
  CHECK(store.pubsub.recount_bytes() == store.pubsub.charged_bytes());
}

TEST_CASE("INFO reports server, clients, memory and keyspace in Redis's format") {
  Store store(1000);
  store.run(kAlice, {"SET", "k", "12"});
  store.run(kBob, {"SUBSCRIBE", "news"});
  std::string reply = store.run(kAlice, {"INFO"});
  REQUIRE(reply.starts_with("$"));
  std::string text = reply.substr(reply.find("\r\n") + 2);
  text.resize(text.size() - 2);
  CHECK(text.starts_with("# Server\r\nportbroker_store_version:"));
  const std::string used = std::to_string(store.memory.used_bytes());
  CHECK(store.memory.used_bytes() == store.keyspace.charged_bytes() + store.pubsub.charged_bytes());
  const std::string memory = "\r\n\r\n# Memory\r\nused_memory:" + used + "\r\nused_memory_human:" + used +
                             "B\r\nused_memory_keyspace:" + std::to_string(store.keyspace.charged_bytes()) +
                             "\r\nused_memory_pubsub:" + std::to_string(store.pubsub.charged_bytes()) +
                             "\r\nused_memory_clients:0\r\nmaxmemory:1000\r\n";
  for (const std::string& expected :
       {std::string("\r\n\r\n# Clients\r\nconnected_clients:3\r\npubsub_clients:1\r\n"), memory,
        std::string("maxmemory_policy:noeviction\r\n"), std::string("\r\n\r\n# Stats\r\n"),
        std::string("pubsub_channels:1\r\npubsub_messages_dropped:0\r\n"),
        std::string("\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n")}) {
    CAPTURE(expected);
    CHECK(text.find(expected) != std::string::npos);
  }
  CHECK(text.ends_with("avg_ttl=0\r\n"));

  std::string keyspace_only = store.run(kAlice, {"info", "KEYSPACE"});
  CHECK(keyspace_only == bulk("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"));
  std::string two = store.run(kAlice, {"INFO", "clients", "memory"});
  CHECK(two.find("# Clients") != std::string::npos);
  CHECK(two.find("# Memory") != std::string::npos);
  CHECK(two.find("# Server") == std::string::npos);
  CHECK(store.run(kAlice, {"INFO", "nosuchsection"}) == "$0\r\n\r\n");
  CHECK(store.run(kAlice, {"INFO", "all"}).find("# Keyspace") != std::string::npos);

  store.executor.client_disconnected(kCarol);
  CHECK(store.run(kAlice, {"INFO", "clients"}).find("connected_clients:2\r\n") != std::string::npos);
  // The server counts messages it dropped for subscribers that fell behind.
  store.executor.count_dropped_messages(3);
  store.executor.count_dropped_messages(1);
  CHECK(store.run(kAlice, {"INFO", "stats"}).find("pubsub_messages_dropped:4\r\n") != std::string::npos);
}
