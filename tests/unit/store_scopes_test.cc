// Scopes: a tenant's part of the store. Commands from clients of two scopes
// (alice, bob) and the unscoped operator, the quota per scope, per-scope
// pub/sub frames, and the control channel that adds and removes scopes.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "store/commands.h"
#include "store/control.h"
#include "store/keyspace.h"
#include "store/memory.h"
#include "store/pubsub.h"
#include "store/server.h"

using store::ClientId;

namespace {

// Clients: two of alice's, one of bob's, and the operator (unscoped).
constexpr ClientId kAlice = 1;
constexpr ClientId kAlice2 = 2;
constexpr ClientId kBob = 3;
constexpr ClientId kRoot = 4;

constexpr size_t kQuota = 64 * 1024;

struct Store {
  explicit Store(size_t max_memory = store::kDefaultMaxMemoryBytes)
      : memory(max_memory), pubsub(memory), executor(keyspace, pubsub, memory) {
    REQUIRE(keyspace.set_scope("alice", kQuota));
    REQUIRE(keyspace.set_scope("bob", kQuota));
    executor.client_connected(kAlice, "alice");
    executor.client_connected(kAlice2, "alice");
    executor.client_connected(kBob, "bob");
    executor.client_connected(kRoot);
  }

  std::string run(ClientId client, std::vector<std::string> args) {
    std::string reply;
    last = executor.execute(client, args, reply);
    return reply;
  }

  // The scope's running figures agree with a recount.
  void check_counts() {
    for (const char* name : {"alice", "bob"}) {
      CAPTURE(name);
      const store::ScopeUsage* usage = keyspace.scope(name);
      REQUIRE(usage != nullptr);
      CHECK(*usage == keyspace.recount_scope(name));
    }
  }

  store::MemoryAccount memory;
  store::Keyspace keyspace{memory};
  store::KeyspaceScopes scopes{keyspace};
  store::PubSub pubsub;
  store::Executor executor;
  store::Outcome last;
};

std::string bulk(const std::string& text) { return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n"; }
std::string frame(const std::string& kind, const std::string& channel, int count) {
  return "*3\r\n" + bulk(kind) + bulk(channel) + ":" + std::to_string(count) + "\r\n";
}
std::string message(const std::string& channel, const std::string& payload) {
  return "*3\r\n" + bulk("message") + bulk(channel) + bulk(payload);
}

// A KEYS reply's names, sorted.
std::vector<std::string> names_in(const std::string& reply) {
  std::vector<std::string> names;
  size_t pos = reply.find("\r\n") + 2;
  while (pos < reply.size()) {
    REQUIRE(reply[pos] == '$');
    size_t end = reply.find("\r\n", pos);
    size_t length = std::stoul(reply.substr(pos + 1, end - pos - 1));
    names.push_back(reply.substr(end + 2, length));
    pos = end + 2 + length + 2;
  }
  std::sort(names.begin(), names.end());
  return names;
}
using Names = std::vector<std::string>;

const std::string kOom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

}  // namespace

TEST_CASE("a scope's key is <scope>:<key>") {
  CHECK(store::scope_name_of_key("alice:count") == "alice");
  CHECK(store::scope_name_of_key("alice:a:b") == "alice");
  CHECK(store::scope_name_of_key("count") == "");
  CHECK(store::scope_name_of_key(":x") == "");
  store::MemoryAccount memory;
  store::Keyspace keyspace(memory);
  CHECK_FALSE(keyspace.set_scope("", 10));
  CHECK_FALSE(keyspace.set_scope("a:b", 10));
  CHECK(keyspace.scope_count() == 0);
}

TEST_CASE("string commands in a scope: the same names, kept apart") {
  Store store;
  for (ClientId client : {kAlice, kBob, kRoot}) {
    CHECK(store.run(client, {"SET", "count", std::to_string(client)}) == "+OK\r\n");
  }
  CHECK(store.run(kAlice, {"GET", "count"}) == bulk("1"));
  CHECK(store.run(kAlice2, {"GET", "count"}) == bulk("1"));  // the scope's, not the client's
  CHECK(store.run(kBob, {"GET", "count"}) == bulk("3"));
  CHECK(store.run(kRoot, {"GET", "count"}) == bulk("4"));
  // The operator sees every scope's keys under their full names.
  CHECK(store.run(kRoot, {"GET", "alice:count"}) == bulk("1"));
  CHECK(names_in(store.run(kRoot, {"KEYS", "*"})) == Names{"alice:count", "bob:count", "count"});
  CHECK(store.run(kRoot, {"DBSIZE"}) == ":3\r\n");

  // A scoped client cannot name another scope's key: "bob:count" is its own
  // key alice:bob:count.
  CHECK(store.run(kAlice, {"GET", "bob:count"}) == "$-1\r\n");
  CHECK(store.run(kAlice, {"EXISTS", "bob:count", "count", "alice:count"}) == ":1\r\n");
  CHECK(store.run(kAlice, {"DEL", "bob:count"}) == ":0\r\n");
  CHECK(store.run(kAlice, {"SET", "bob:count", "99"}) == "+OK\r\n");
  CHECK(store.run(kBob, {"GET", "count"}) == bulk("3"));
  CHECK(store.run(kRoot, {"GET", "alice:bob:count"}) == bulk("99"));

  // SET's options.
  CHECK(store.run(kAlice, {"SET", "count", "5", "NX"}) == "$-1\r\n");
  CHECK(store.run(kAlice, {"SET", "fresh", "5", "XX"}) == "$-1\r\n");
  CHECK(store.run(kAlice, {"SET", "fresh", "5", "NX"}) == "+OK\r\n");
  CHECK(store.run(kBob, {"SET", "fresh", "6", "NX"}) == "+OK\r\n");  // bob's own
  CHECK(store.run(kAlice, {"SET", "fresh", "7", "XX"}) == "+OK\r\n");
  CHECK(store.run(kAlice, {"GET", "fresh"}) == bulk("7"));
  CHECK(store.run(kBob, {"GET", "fresh"}) == bulk("6"));
  CHECK(store.run(kAlice, {"SET", "bad", "not json"}) == "-ERR value is not valid JSON\r\n");

  // EXISTS and DEL count only the scope's keys (a key named twice counts twice).
  CHECK(store.run(kAlice, {"EXISTS", "count", "fresh", "count", "nope"}) == ":3\r\n");
  CHECK(store.run(kBob, {"EXISTS", "bob:count"}) == ":0\r\n");
  CHECK(store.run(kAlice, {"DEL", "fresh", "fresh", "nope"}) == ":1\r\n");
  CHECK(store.run(kBob, {"EXISTS", "fresh"}) == ":1\r\n");
  store.check_counts();
}

TEST_CASE("KEYS and DBSIZE in a scope see only the scope's keys, without the prefix") {
  Store store;
  for (std::string key : {"user:1", "user:2", "session", "a*b"}) {
    REQUIRE(store.run(kAlice, {"SET", key, "1"}) == "+OK\r\n");
  }
  for (std::string key : {"user:1", "user:3", "other"}) REQUIRE(store.run(kBob, {"SET", key, "1"}) == "+OK\r\n");
  for (std::string key : {"user:9", "alice", "alicex:1", "alic:1"}) {
    REQUIRE(store.run(kRoot, {"SET", key, "1"}) == "+OK\r\n");
  }
  CHECK(names_in(store.run(kAlice, {"KEYS", "*"})) == Names{"a*b", "session", "user:1", "user:2"});
  CHECK(names_in(store.run(kAlice, {"KEYS", "user:*"})) == Names{"user:1", "user:2"});
  CHECK(names_in(store.run(kAlice, {"KEYS", "a\\*b"})) == Names{"a*b"});
  CHECK(names_in(store.run(kAlice, {"KEYS", "*:?"})) == Names{"user:1", "user:2"});
  // A pattern cannot climb out of the prefix.
  CHECK(names_in(store.run(kAlice, {"KEYS", "*alice*"})) == Names{});
  CHECK(names_in(store.run(kBob, {"KEYS", "*"})) == Names{"other", "user:1", "user:3"});
  // SCAN's names are KEYS' (after the cursor, which is always 0).
  std::string scan = store.run(kAlice, {"SCAN", "0", "MATCH", "user:*"});
  REQUIRE(scan.starts_with("*2\r\n$1\r\n0\r\n"));
  CHECK(names_in(scan.substr(std::string("*2\r\n$1\r\n0\r\n").size())) == Names{"user:1", "user:2"});
  scan = store.run(kBob, {"SCAN", "0", "MATCH", "*alice*"});
  CHECK(scan == "*2\r\n$1\r\n0\r\n*0\r\n");
  CHECK(store.run(kAlice, {"DBSIZE"}) == ":4\r\n");
  CHECK(store.run(kBob, {"DBSIZE"}) == ":3\r\n");
  CHECK(store.run(kRoot, {"DBSIZE"}) == ":11\r\n");
  CHECK(names_in(store.run(kRoot, {"KEYS", "alice:*"})) ==
        Names{"alice:a*b", "alice:session", "alice:user:1", "alice:user:2"});
  // Keys the operator writes with the prefix are the scope's.
  REQUIRE(store.run(kRoot, {"SET", "alice:from-root", "2"}) == "+OK\r\n");
  CHECK(store.run(kAlice, {"DBSIZE"}) == ":5\r\n");
  CHECK(store.run(kAlice, {"GET", "from-root"}) == bulk("2"));
  REQUIRE(store.run(kRoot, {"DEL", "alice:from-root", "alice:session"}) == ":2\r\n");
  CHECK(store.run(kAlice, {"DBSIZE"}) == ":3\r\n");
  store.check_counts();
}

TEST_CASE("a scope's quota refuses its writes with Redis's OOM error; other scopes write on") {
  Store store;
  const std::string value = "\"" + std::string(1000, 'v') + "\"";
  int stored = 0;
  std::string reply;
  while ((reply = store.run(kAlice, {"SET", "k" + std::to_string(stored), value})) == "+OK\r\n") ++stored;
  CHECK(reply == kOom);
  CHECK(store.last.rejected_out_of_memory);
  CHECK(store.last.over_quota_scope == "alice");
  const store::ScopeUsage full = *store.keyspace.scope("alice");
  CHECK(full.keys == static_cast<size_t>(stored));
  CHECK(full.charged_bytes <= kQuota);
  CHECK(full.charged_bytes + store::Keyspace::entry_bytes(3, value.size()) > kQuota);
  // Charged what each entry costs, as keyspace.h counts it ("alice:kNN" is
  // short enough to live inside its string).
  CHECK(full.charged_bytes == static_cast<size_t>(stored) * store::Keyspace::entry_bytes(8, value.size()));
  // A refused write changes nothing.
  CHECK(store.run(kAlice, {"EXISTS", "k" + std::to_string(stored)}) == ":0\r\n");
  CHECK(*store.keyspace.scope("alice") == full);
  // Growing a value is a write too.
  CHECK(store.run(kAlice, {"SET", "k0", "\"" + std::string(5000, 'w') + "\""}) == kOom);
  CHECK(store.run(kAlice, {"GET", "k0"}) == bulk(value));
  // Whoever writes: the operator writing alice's keys is refused the same way.
  CHECK(store.run(kAlice, {"SET", "more", value}) == kOom);
  CHECK(store.run(kRoot, {"SET", "alice:more", value}) == kOom);
  CHECK(store.last.over_quota_scope == "alice");
  // Reads go on, and so does shrinking a value.
  CHECK(store.run(kAlice, {"GET", "k1"}) == bulk(value));
  CHECK(store.run(kAlice, {"SET", "k0", "1"}) == "+OK\r\n");
  // Bob and the operator's own keys are not affected.
  CHECK(store.run(kBob, {"SET", "k0", value}) == "+OK\r\n");
  CHECK(store.run(kRoot, {"SET", "k0", value}) == "+OK\r\n");
  CHECK(store.run(kRoot, {"SET", "carol:k0", value}) == "+OK\r\n");  // no scope carol: not limited by one
  CHECK(store.last.over_quota_scope.empty());
  // Deleting frees the room.
  CHECK(store.run(kAlice, {"DEL", "k1", "k2"}) == ":2\r\n");
  CHECK(store.run(kAlice, {"SET", "more", value}) == "+OK\r\n");
  CHECK(store.run(kRoot, {"SET", "alice:more2", value}) == "+OK\r\n");
  store.check_counts();
  // INFO counts the refusals.
  CHECK(store.run(kRoot, {"INFO", "stats"}).find("rejected_out_of_memory:4\r\n") != std::string::npos);

  // A lowered quota leaves what is there and refuses writes until deletes
  // bring the scope under it.
  REQUIRE(store.keyspace.set_scope("alice", 1000));
  CHECK(store.run(kAlice, {"DBSIZE"}) == ":" + std::to_string(full.keys) + "\r\n");
  CHECK(store.run(kAlice, {"SET", "tiny", "1"}) == kOom);
  CHECK(store.run(kAlice, {"DEL", "k0"}) == ":1\r\n");
  CHECK(store.run(kAlice, {"SET", "k3", "1"}) == kOom);  // smaller, still over
  store.check_counts();
}

TEST_CASE("the store's own limit still applies to every scope") {
  // Room for a few entries in all, more than that in each quota.
  Store store(8 * 1024);
  const std::string value = "\"" + std::string(1000, 'v') + "\"";
  int stored = 0;
  while (store.run(stored % 2 ? kAlice : kBob, {"SET", "k" + std::to_string(stored), value}) == "+OK\r\n") ++stored;
  CHECK(store.last.rejected_out_of_memory);
  CHECK(store.last.over_quota_scope.empty());  // the store's limit, not a quota
  CHECK(store.memory.used_bytes() <= 8 * 1024);
  CHECK(stored < 8);
  store.check_counts();
}

TEST_CASE("a scope added later counts the keys it already owns; removed, its keys stay") {
  store::MemoryAccount memory;
  store::Keyspace keyspace(memory);
  REQUIRE(keyspace.set("carol:a", "1"));
  REQUIRE(keyspace.set("carol:b", "\"" + std::string(100, 'x') + "\""));
  REQUIRE(keyspace.set("carolx:c", "1"));
  REQUIRE(keyspace.set("carol", "1"));
  REQUIRE(keyspace.set_scope("carol", 1 << 20));
  const store::ScopeUsage* usage = keyspace.scope("carol");
  REQUIRE(usage != nullptr);
  CHECK(usage->keys == 2);
  CHECK(usage->charged_bytes ==
        store::Keyspace::entry_bytes(7, 1) + store::Keyspace::entry_bytes(7, 102));
  CHECK(*usage == keyspace.recount_scope("carol"));
  // An update keeps the counts.
  REQUIRE(keyspace.set_scope("carol", 10));
  CHECK(keyspace.scope("carol")->keys == 2);
  CHECK(keyspace.scope("carol")->max_bytes == 10);
  CHECK(keyspace.write("carol:c", "1") == store::WriteResult::over_scope_quota);
  CHECK(keyspace.write("carolx:c", "2") == store::WriteResult::ok);
  CHECK(keyspace.remove_scope("carol"));
  CHECK_FALSE(keyspace.remove_scope("carol"));
  CHECK(keyspace.scope("carol") == nullptr);
  CHECK(keyspace.size() == 4);
  CHECK(keyspace.write("carol:c", "1") == store::WriteResult::ok);  // no quota now
  // Emptied, a scope is charged nothing.
  REQUIRE(keyspace.set_scope("carol", 1 << 20));
  for (const char* key : {"carol:a", "carol:b", "carol:c"}) REQUIRE(keyspace.erase(key));
  CHECK(*keyspace.scope("carol") == store::ScopeUsage{1 << 20, 0, 0});
}

TEST_CASE("SUBSCRIBE and UNSUBSCRIBE in a scope confirm with the names the client gave") {
  Store store;
  CHECK(store.run(kAlice, {"SUBSCRIBE", "news", "chat", "news"}) ==
        frame("subscribe", "news", 1) + frame("subscribe", "chat", 2) + frame("subscribe", "news", 2));
  CHECK(store.pubsub.is_subscribed(kAlice, "alice:news"));
  CHECK_FALSE(store.pubsub.is_subscribed(kAlice, "news"));
  CHECK(store.run(kBob, {"SUBSCRIBE", "news"}) == frame("subscribe", "news", 1));
  CHECK(store.pubsub.subscribers("bob:news") == std::vector<ClientId>{kBob});
  CHECK(store.run(kAlice, {"UNSUBSCRIBE", "chat", "nope"}) ==
        frame("unsubscribe", "chat", 1) + frame("unsubscribe", "nope", 1));
  CHECK(store.run(kAlice, {"SUBSCRIBE", "alpha"}) == frame("subscribe", "alpha", 2));
  // Without arguments: each of its channels, in byte order, without the prefix.
  CHECK(store.run(kAlice, {"UNSUBSCRIBE"}) == frame("unsubscribe", "alpha", 1) + frame("unsubscribe", "news", 0));
  CHECK(store.run(kAlice, {"UNSUBSCRIBE"}) == "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  CHECK(store.pubsub.subscribers("bob:news") == std::vector<ClientId>{kBob});
  // Subscribe mode works as for anyone.
  CHECK(store.run(kBob, {"GET", "k"}).starts_with("-ERR Can't execute 'get'"));
  CHECK(store.run(kBob, {"PING"}) == "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

TEST_CASE("a message reaches its scope's subscribers and unscoped ones, each under its own name") {
  Store store;
  // Publishers (a subscriber may only subscribe).
  constexpr ClientId kAlicePublisher = 10;
  constexpr ClientId kBobPublisher = 11;
  constexpr ClientId kRootPublisher = 12;
  store.executor.client_connected(kAlicePublisher, "alice");
  store.executor.client_connected(kBobPublisher, "bob");
  store.executor.client_connected(kRootPublisher);
  store.run(kAlice, {"SUBSCRIBE", "news"});
  store.run(kAlice2, {"SUBSCRIBE", "news"});
  store.run(kBob, {"SUBSCRIBE", "news"});
  store.run(kRoot, {"SUBSCRIBE", "alice:news", "news"});
  const std::string payload = "{\"n\":1}";

  // Published in alice's scope: alice's clients see "news", the operator
  // "alice:news"; bob's "news" is another channel.
  CHECK(store.run(kAlicePublisher, {"PUBLISH", "news", payload}) == ":3\r\n");
  REQUIRE(store.last.deliveries.size() == 2);
  CHECK(store.last.deliveries[0].recipients == std::vector<ClientId>{kAlice, kAlice2});
  CHECK(store.last.deliveries[0].message == message("news", payload));
  CHECK(store.last.deliveries[1].recipients == std::vector<ClientId>{kRoot});
  CHECK(store.last.deliveries[1].message == message("alice:news", payload));

  // The operator publishing alice:news reaches the same three.
  CHECK(store.run(kRootPublisher, {"PUBLISH", "alice:news", payload}) == ":3\r\n");
  REQUIRE(store.last.deliveries.size() == 2);
  CHECK(store.last.deliveries[0].message == message("news", payload));
  CHECK(store.last.deliveries[1].message == message("alice:news", payload));

  // Bob's news reaches bob only; the operator's own "news" only the operator.
  CHECK(store.run(kBobPublisher, {"PUBLISH", "news", payload}) == ":1\r\n");
  REQUIRE(store.last.deliveries.size() == 1);
  CHECK(store.last.deliveries[0].recipients == std::vector<ClientId>{kBob});
  CHECK(store.last.deliveries[0].message == message("news", payload));
  CHECK(store.run(kRootPublisher, {"PUBLISH", "news", payload}) == ":1\r\n");
  REQUIRE(store.last.deliveries.size() == 1);
  CHECK(store.last.deliveries[0].recipients == std::vector<ClientId>{kRoot});
  store.run(kRoot, {"UNSUBSCRIBE"});
  CHECK(store.run(kRootPublisher, {"PUBLISH", "news", payload}) == ":0\r\n");
  // Alice cannot reach bob's channel by naming it.
  CHECK(store.run(kAlice2, {"UNSUBSCRIBE"}) == frame("unsubscribe", "news", 0));
  CHECK(store.run(kAlicePublisher, {"PUBLISH", "bob:news", payload}) == ":0\r\n");
  CHECK(store.last.deliveries.empty());

  // A subscriber that leaves stops receiving.
  store.executor.client_disconnected(kAlice);
  CHECK(store.run(kRootPublisher, {"PUBLISH", "alice:news", payload}) == ":0\r\n");
  CHECK(store.executor.scope_of(kAlice).empty());
  CHECK(store.executor.scope_of(kBob) == "bob");
}

TEST_CASE("INFO for a scoped client shows only what is its own") {
  Store store;
  store.run(kAlice, {"SET", "k", "12"});
  store.run(kBob, {"SET", "k", "1"});
  store.run(kBob, {"SET", "j", "1"});
  store.executor.client_connected(5);
  store.run(5, {"SUBSCRIBE", "x"});
  std::string reply = store.run(kAlice, {"INFO"});
  REQUIRE(reply.starts_with("$"));
  std::string text = reply.substr(reply.find("\r\n") + 2);
  const store::ScopeUsage& usage = *store.keyspace.scope("alice");
  CHECK(text.starts_with("# Server\r\nportbroker_store_version:"));
  CHECK(text.find("uptime_in_seconds:") != std::string::npos);
  CHECK(text.find("scope:alice\r\n") != std::string::npos);
  CHECK(text.find("\r\n\r\n# Memory\r\nused_memory:" + std::to_string(usage.charged_bytes) + "\r\n") !=
        std::string::npos);
  CHECK(text.find("maxmemory:" + std::to_string(kQuota) + "\r\nmaxmemory_human:64.00K\r\n") != std::string::npos);
  CHECK(text.find("\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n") != std::string::npos);
  // Nothing about the store as a whole or anyone else.
  for (const char* absent : {"# Clients", "connected_clients", "pubsub", "# Stats", "total_", "process_id",
                             "used_memory_keyspace", "used_memory_clients", "rejected"}) {
    CAPTURE(absent);
    CHECK(text.find(absent) == std::string::npos);
  }
  CHECK(store.run(kAlice, {"INFO", "clients"}) == "$0\r\n\r\n");
  CHECK(store.run(kAlice, {"INFO", "stats"}) == "$0\r\n\r\n");
  CHECK(store.run(kBob, {"INFO", "keyspace"}) == bulk("# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n"));
  // The operator's INFO is the whole store's, as before.
  std::string root = store.run(kRoot, {"INFO", "keyspace", "clients"});
  CHECK(root.find("db0:keys=3,") != std::string::npos);
  CHECK(root.find("connected_clients:5\r\npubsub_clients:1\r\n") != std::string::npos);
}

TEST_CASE("every command runs for a scoped client, and errors quote only what it sent") {
  Store store;
  CHECK(store.run(kAlice, {"PING"}) == "+PONG\r\n");
  CHECK(store.run(kAlice, {"ECHO", "hi"}) == bulk("hi"));
  CHECK(store.run(kAlice, {"COMMAND", "COUNT"}) == ":15\r\n");
  CHECK(store.run(kAlice, {"FLUSHALL"}) == "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n");
  CHECK(store.run(kAlice, {"GET"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(store.run(kAlice, {"QUIT"}) == "+OK\r\n");
  CHECK(store.last.close_connection);
}

// A listening Unix socket at `path`, and clients of it.
namespace {

common::UniqueFd listening_socket(const std::string& path) {
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  unlink(path.c_str());
  REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(fd.get(), 16) == 0);
  return fd;
}

common::UniqueFd connect_to(const std::string& path) {
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  REQUIRE(connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval timeout{5, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

struct Harness {
  Harness() : pubsub(memory), executor(keyspace, pubsub, memory) {
    uv_loop_init(&loop);
    directory = std::filesystem::temp_directory_path() / ("store-scopes-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(directory);
    server = std::make_unique<store::Server>(&loop, executor, memory);
    control = std::make_unique<store::ScopeControl>(*server, scopes);
    REQUIRE(server->listen(listening_socket(path("store.sock"))));
  }
  ~Harness() {
    channel.reset();
    control.reset();
    server.reset();
    common::drain_and_close_loop(&loop);
    std::filesystem::remove_all(directory);
  }

  std::string path(const std::string& name) const { return (directory / name).string(); }

  // Runs the loop until `done` or 5 s.
  template <typename Done>
  bool run_until(Done done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop, UV_RUN_NOWAIT);
      usleep(1000);
    }
    return true;
  }

  // Sends a request and runs the loop until as many bytes as `expected` has
  // came back (or 5 s passed); returns them.
  std::string ask(int fd, const std::string& request, const std::string& expected) {
    REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
    std::string reply;
    run_until([&] {
      char buffer[4096];
      ssize_t n = recv(fd, buffer, std::min(sizeof buffer, expected.size() - reply.size()), MSG_DONTWAIT);
      if (n > 0) reply.append(buffer, static_cast<size_t>(n));
      return reply.size() >= expected.size();
    });
    return reply;
  }

  void expect(int fd, const std::string& request, const std::string& expected) {
    CHECK(ask(fd, request, expected) == expected);
  }

  // Runs the loop for about `ms` milliseconds.
  void run_for(int ms) {
    for (int i = 0; i < ms; ++i) {
      uv_run(&loop, UV_RUN_NOWAIT);
      usleep(1000);
    }
  }

  bool apply(const std::vector<uint8_t>& message, std::vector<common::UniqueFd> fds = {}) {
    return control->handle(message, fds);
  }

  uv_loop_t loop{};
  std::filesystem::path directory;
  store::MemoryAccount memory;
  store::Keyspace keyspace{memory};
  store::KeyspaceScopes scopes{keyspace};
  store::PubSub pubsub;
  store::Executor executor;
  std::unique_ptr<store::Server> server;
  std::unique_ptr<store::ScopeControl> control;
  std::unique_ptr<store::ControlChannel> channel;
};

std::string command(std::vector<std::string> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& arg : args) out += bulk(arg);
  return out;
}

}  // namespace

TEST_CASE("store control messages encode and decode; names are bounded") {
  ipc::StoreScope scope{"alice", 64 << 20};
  ipc::StoreScope decoded;
  REQUIRE(ipc::decode(ipc::encode(scope), decoded));
  CHECK(decoded == scope);
  CHECK(ipc::peek_type(ipc::encode(scope)) == ipc::MessageType::store_scope);
  ipc::StoreScopeRemove remove{"bob"};
  ipc::StoreScopeRemove removed;
  REQUIRE(ipc::decode(ipc::encode(remove), removed));
  CHECK(removed == remove);
  CHECK_FALSE(ipc::decode(ipc::encode(remove), decoded));
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::StoreScope{"", 1}), decoded));
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::StoreScope{std::string(33, 'a'), 1}), decoded));
  CHECK(ipc::decode(ipc::encode(ipc::StoreScope{std::string(32, 'a'), 1}), decoded));
  auto bytes = ipc::encode(scope);
  bytes.push_back(0);
  CHECK_FALSE(ipc::decode(bytes, decoded));
  bytes.resize(bytes.size() - 2);
  CHECK_FALSE(ipc::decode(bytes, decoded));
}

TEST_CASE("the control channel adds a scope with its listener; its clients are scoped") {
  Harness h;
  REQUIRE(h.apply(ipc::encode(ipc::StoreScope{"alice", kQuota}), [&] {
    std::vector<common::UniqueFd> fds;
    fds.push_back(listening_socket(h.path("alice.sock")));
    return fds;
  }()));
  CHECK(h.server->listening("alice"));
  REQUIRE(h.keyspace.scope("alice") != nullptr);
  CHECK(h.keyspace.scope("alice")->max_bytes == kQuota);

  auto alice = connect_to(h.path("alice.sock"));
  auto root = connect_to(h.path("store.sock"));
  h.expect(alice.get(), command({"SET", "count", "1"}), "+OK\r\n");
  h.expect(root.get(), command({"KEYS", "*"}), "*1\r\n" + bulk("alice:count"));
  CHECK(h.server->client_count("alice") == 1);

  // An update without a descriptor changes the quota only.
  REQUIRE(h.apply(ipc::encode(ipc::StoreScope{"alice", 10})));
  CHECK(h.keyspace.scope("alice")->max_bytes == 10);
  h.expect(alice.get(), command({"SET", "more", "1"}), kOom);
  CHECK(h.server->client_count("alice") == 1);

  // Removed: its clients are closed, its listener too; its keys stay.
  auto subscriber = connect_to(h.path("alice.sock"));
  h.expect(subscriber.get(), command({"SUBSCRIBE", "news"}), frame("subscribe", "news", 1));
  REQUIRE(h.apply(ipc::encode(ipc::StoreScopeRemove{"alice"})));
  CHECK_FALSE(h.server->listening("alice"));
  CHECK(h.keyspace.scope("alice") == nullptr);
  CHECK(h.server->client_count("alice") == 0);
  char byte;
  CHECK(h.run_until([&] { return recv(alice.get(), &byte, 1, MSG_DONTWAIT) == 0; }));
  CHECK(h.run_until([&] { return recv(subscriber.get(), &byte, 1, MSG_DONTWAIT) == 0; }));
  CHECK(h.pubsub.channel_count() == 0);
  h.expect(root.get(), command({"GET", "alice:count"}), bulk("1"));
  // Nobody is accepted on the old socket now.
  common::UniqueFd late(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, h.path("alice.sock").c_str(), sizeof address.sun_path - 1);
  CHECK(connect(late.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0);
  // Removing it again is refused (logged), harmlessly.
  CHECK_FALSE(h.apply(ipc::encode(ipc::StoreScopeRemove{"alice"})));
}

TEST_CASE("bad control messages are ignored and their descriptors closed") {
  Harness h;
  auto listener_fds = [&](int count) {
    std::vector<common::UniqueFd> fds;
    for (int i = 0; i < count; ++i) fds.push_back(listening_socket(h.path("l" + std::to_string(i) + ".sock")));
    return fds;
  };
  struct Case {
    const char* what;
    std::vector<uint8_t> message;
    int fds;
  };
  const Case cases[] = {
      {"empty", {}, 1},
      {"unknown type", ipc::encode(ipc::StoreConnections{}), 1},
      {"malformed", {201, 0, 3}, 1},
      {"name not a tenant's", ipc::encode(ipc::StoreScope{"Alice", 100}), 1},
      {"name with a colon", ipc::encode(ipc::StoreScope{"a:b", 100}), 1},
      {"name with a glob", ipc::encode(ipc::StoreScope{"a*", 100}), 1},
      {"new scope without a listener", ipc::encode(ipc::StoreScope{"alice", 100}), 0},
      {"two descriptors", ipc::encode(ipc::StoreScope{"alice", 100}), 2},
      {"remove with a descriptor", ipc::encode(ipc::StoreScopeRemove{"alice"}), 1},
      {"remove of an unknown scope", ipc::encode(ipc::StoreScopeRemove{"nobody"}), 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    auto fds = listener_fds(c.fds);
    std::vector<int> numbers;
    for (const auto& fd : fds) numbers.push_back(fd.get());
    CHECK_FALSE(h.control->handle(c.message, fds));
    CHECK(fds.empty());
    for (int fd : numbers) CHECK_FALSE(is_open(fd));
  }
  // Descriptors that are not listening Unix stream sockets.
  common::UniqueFd a, b;
  REQUIRE(ipc::make_channel_pair(a, b));
  common::UniqueFd tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in loopback{};
  loopback.sin_family = AF_INET;
  loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(tcp.get(), reinterpret_cast<sockaddr*>(&loopback), sizeof loopback) == 0);
  REQUIRE(listen(tcp.get(), 1) == 0);  // listening, but not a Unix socket
  common::UniqueFd unbound(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  common::UniqueFd file(open("/dev/null", O_RDONLY | O_CLOEXEC));
  for (common::UniqueFd* fd : {&a, &tcp, &unbound, &file}) {
    std::vector<common::UniqueFd> fds;
    int number = fd->get();
    fds.push_back(std::move(*fd));
    CHECK_FALSE(h.control->handle(ipc::encode(ipc::StoreScope{"alice", 100}), fds));
    CHECK_FALSE(is_open(number));
  }
  CHECK(h.keyspace.scope_count() == 0);
  CHECK_FALSE(h.server->listening("alice"));
  CHECK(h.server->listening(""));
}

TEST_CASE("over the channel: scopes arrive with their sockets, and a closed channel leaves the store serving") {
  Harness h;
  common::UniqueFd supervisor_end, store_end;
  REQUIRE(ipc::make_channel_pair(supervisor_end, store_end));
  h.channel = std::make_unique<store::ControlChannel>(&h.loop, *h.control);
  REQUIRE(h.channel->start(std::move(store_end)));

  auto alice_listener = listening_socket(h.path("alice.sock"));
  auto bob_listener = listening_socket(h.path("bob.sock"));
  int alice_fd[] = {alice_listener.get()};
  int bob_fd[] = {bob_listener.get()};
  REQUIRE(ipc::send_message(supervisor_end.get(), ipc::encode(ipc::StoreScope{"alice", kQuota}), alice_fd) ==
          ipc::IoResult::ok);
  REQUIRE(ipc::send_message(supervisor_end.get(), std::vector<uint8_t>{1, 2, 3}) == ipc::IoResult::ok);
  REQUIRE(ipc::send_message(supervisor_end.get(), ipc::encode(ipc::StoreScope{"bob", kQuota}), bob_fd) ==
          ipc::IoResult::ok);
  alice_listener.reset();
  bob_listener.reset();
  REQUIRE(h.run_until([&] { return h.server->listening("alice") && h.server->listening("bob"); }));

  auto alice = connect_to(h.path("alice.sock"));
  auto bob = connect_to(h.path("bob.sock"));
  h.expect(alice.get(), command({"SUBSCRIBE", "news"}), frame("subscribe", "news", 1));
  h.expect(bob.get(), command({"PUBLISH", "news", "1"}), ":0\r\n");
  auto alice2 = connect_to(h.path("alice.sock"));
  h.expect(alice2.get(), command({"PUBLISH", "news", "1"}), ":1\r\n");
  h.expect(alice.get(), "", message("news", "1"));

  // The supervisor goes away: the store carries on.
  supervisor_end.reset();
  h.run_for(100);  // lets the close be seen
  h.expect(alice2.get(), command({"DBSIZE"}), ":0\r\n");
}
