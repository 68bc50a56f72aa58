// StoreService with a real, confined portbroker-store: tenants' scopes made
// by the supervisor side (folders, sockets, owners, modes), sent over the
// control channel (SCM_RIGHTS into the store's seccomp sandbox), resent to a
// restarted store, and connections that cannot be redirected by a tenant who
// tampers with its folder. Needs root (it binds sockets for other uids and
// starts the store in namespaces); skipped otherwise.

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/uv_handle.h"
#include "supervisor/store/store_service.h"

namespace {

constexpr uid_t kAliceUid = 61001;
constexpr uid_t kBobUid = 61002;

std::string bulk(const std::string& text) { return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n"; }
std::string command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& arg : args) out += bulk(arg);
  return out;
}
const std::string kOom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

// Sends a request on a blocking socket and reads as many bytes as `expected`
// has (or what came before a 5 s timeout or the end).
std::string ask(const common::UniqueFd& fd, const std::string& request, const std::string& expected) {
  timeval timeout{5, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return "(send failed)";
  }
  std::string reply;
  while (reply.size() < expected.size()) {
    char buffer[4096];
    ssize_t n = recv(fd.get(), buffer, std::min(sizeof buffer, expected.size() - reply.size()), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  return reply;
}

bool closed_by_peer(const common::UniqueFd& fd) {
  timeval timeout{5, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char byte;
  return recv(fd.get(), &byte, 1, 0) == 0;
}

struct Fixture {
  Fixture() {
    uv_loop_init(&loop);
    char pattern[] = "/tmp/portbroker-store-service-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    run_dir = pattern;
    chmod(run_dir.c_str(), 0755);
    // The sandboxed store runs as nobody, as the workers' user would.
    service = std::make_unique<supervisor::StoreService>(
        &loop, run_dir, "info", std::vector<std::string>{"--uid", "65534", "--gid", "65534", "--sandbox", "on"}, true,
        [this] { ++lost; });
  }
  ~Fixture() {
    if (service) {
      bool done = false;
      service->stop([&] { done = true; });
      run_until([&] { return done; });
      service.reset();
    }
    common::drain_and_close_loop(&loop);
    std::filesystem::remove_all(run_dir);
  }

  template <typename Done>
  bool run_until(Done done, int seconds = 10) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop, UV_RUN_NOWAIT);
      usleep(2000);
    }
    return true;
  }

  common::UniqueFd connect(const std::string& tenant) {
    common::UniqueFd fd;
    std::string error;
    INFO(error);
    REQUIRE(service->connect(tenant, fd, error));
    return fd;
  }

  uv_loop_t loop{};
  std::string run_dir;
  std::unique_ptr<supervisor::StoreService> service;
  int lost = 0;
};

struct stat stat_of(const std::string& path) {
  struct stat info {};
  REQUIRE(lstat(path.c_str(), &info) == 0);
  return info;
}

}  // namespace

TEST_CASE("tenants' scopes: sockets, modes, owners, isolation, quotas, removal, tampering, restarts") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root");
    return;
  }
  Fixture f;
  std::string error;
  // A scope added before the store starts is sent when it does.
  REQUIRE(f.service->add_scope("alice", kAliceUid, kAliceUid, 1 << 20, error));
  REQUIRE(f.service->start(error));
  REQUIRE(f.service->add_scope("bob", kBobUid, kBobUid, 1 << 20, error));
  CHECK_FALSE(f.service->add_scope("Bad:name", kBobUid, kBobUid, 1, error));
  CHECK_FALSE(f.service->add_scope("../x", kBobUid, kBobUid, 1, error));

  // The folders and sockets, as the tenants and others see them.
  auto tenants = stat_of(f.run_dir + "/tenants");
  CHECK(S_ISDIR(tenants.st_mode));
  CHECK((tenants.st_mode & 07777) == 0755);
  CHECK(tenants.st_uid == 0);
  for (auto [name, uid] : {std::pair{"alice", kAliceUid}, std::pair{"bob", kBobUid}}) {
    CAPTURE(name);
    auto dir = stat_of(f.run_dir + "/tenants/" + name);
    CHECK(S_ISDIR(dir.st_mode));
    CHECK((dir.st_mode & 07777) == 0700);
    CHECK(dir.st_uid == uid);
    CHECK(dir.st_gid == uid);
    auto socket = stat_of(f.service->scope_socket_path(name));
    CHECK(S_ISSOCK(socket.st_mode));
    CHECK((socket.st_mode & 07777) == 0600);
    CHECK(socket.st_uid == uid);
  }
  CHECK(f.service->scope_socket_path("alice") == f.run_dir + "/tenants/alice/store.sock");

  // The same name in each scope, kept apart; the operator sees them all.
  auto alice = f.connect("alice");
  auto bob = f.connect("bob");
  auto root = f.connect("");
  CHECK(ask(alice, command({"SET", "count", "1"}), "+OK\r\n") == "+OK\r\n");
  CHECK(ask(bob, command({"GET", "count"}), "$-1\r\n") == "$-1\r\n");
  CHECK(ask(bob, command({"SET", "count", "2"}), "+OK\r\n") == "+OK\r\n");
  CHECK(ask(alice, command({"KEYS", "*"}), "*1\r\n" + bulk("count")) == "*1\r\n" + bulk("count"));
  std::string all = ask(root, command({"KEYS", "*"}), "*2\r\n" + bulk("alice:count") + bulk("bob:count"));
  CHECK(all.find(bulk("alice:count")) != std::string::npos);
  CHECK(all.find(bulk("bob:count")) != std::string::npos);
  CHECK(ask(alice, command({"DBSIZE"}), ":1\r\n") == ":1\r\n");

  // A new quota for alice: her writes are refused, bob's go on. (The quota
  // travels on the control channel, her request on her own connection: it
  // applies once the store has read the former.)
  REQUIRE(f.service->add_scope("alice", kAliceUid, kAliceUid, 200, error));
  const std::string big = "\"" + std::string(300, 'x') + "\"";
  int tries = 0;
  while (ask(alice, command({"SET", "big", big}), kOom) != kOom) {
    REQUIRE(++tries < 100);
    CHECK(ask(alice, command({"DEL", "big"}), ":1\r\n") == ":1\r\n");
    usleep(20000);
  }
  CHECK(ask(bob, command({"SET", "big", big}), "+OK\r\n") == "+OK\r\n");

  // The tenant replaces its socket with a link to the operator's: the
  // supervisor makes it anew rather than follow the link, so the worker's
  // connection stays in the tenant's scope.
  std::string alice_path = f.service->scope_socket_path("alice");
  REQUIRE(unlink(alice_path.c_str()) == 0);
  REQUIRE(symlink(f.service->socket_path().c_str(), alice_path.c_str()) == 0);
  auto relinked = f.connect("alice");
  CHECK(ask(relinked, command({"KEYS", "*"}), "*1\r\n" + bulk("count")) == "*1\r\n" + bulk("count"));
  CHECK(S_ISSOCK(stat_of(alice_path).st_mode));
  CHECK(stat_of(alice_path).st_uid == kAliceUid);
  // The connection made before still works (the store replaced the listener only).
  CHECK(ask(alice, command({"GET", "count"}), bulk("1")) == bulk("1"));

  // A new owner: a new socket, owned by the new uid.
  REQUIRE(f.service->add_scope("alice", kAliceUid + 10, kAliceUid + 10, 200, error));
  CHECK(stat_of(alice_path).st_uid == kAliceUid + 10);
  CHECK(stat_of(f.run_dir + "/tenants/alice").st_uid == kAliceUid + 10);
  auto renewed = f.connect("alice");
  CHECK(ask(renewed, command({"GET", "count"}), bulk("1")) == bulk("1"));

  // Removed: bob's clients are closed, his socket and folder gone, his keys kept.
  f.service->remove_scope("bob");
  CHECK(closed_by_peer(bob));
  CHECK_FALSE(std::filesystem::exists(f.run_dir + "/tenants/bob"));
  common::UniqueFd none;
  CHECK_FALSE(f.service->connect("bob", none, error));
  CHECK(ask(root, command({"GET", "bob:count"}), bulk("2")) == bulk("2"));
  // Added back at runtime: a new socket, the old keys are its own again.
  REQUIRE(f.service->add_scope("bob", kBobUid, kBobUid, 1 << 20, error));
  auto bob_again = f.connect("bob");
  CHECK(ask(bob_again, command({"GET", "count"}), bulk("2")) == bulk("2"));

  // The store dies: the restarted one gets every scope again.
  pid_t first = f.service->pid();
  REQUIRE(first > 0);
  REQUIRE(kill(first, SIGKILL) == 0);
  REQUIRE(f.run_until([&] { return f.lost == 1 && f.service->running() && f.service->pid() != first; }));
  auto alice_after = f.connect("alice");
  CHECK(ask(alice_after, command({"SET", "count", "5"}), "+OK\r\n") == "+OK\r\n");
  auto bob_after = f.connect("bob");
  CHECK(ask(bob_after, command({"SET", "big", big}), "+OK\r\n") == "+OK\r\n");
  // Alice's quota came along.
  CHECK(ask(alice_after, command({"SET", "big", big}), kOom) == kOom);
  auto root_after = f.connect("");
  CHECK(ask(root_after, command({"GET", "alice:count"}), bulk("5")) == bulk("5"));

  // Stopping removes the sockets and folders.
  bool done = false;
  f.service->stop([&] { done = true; });
  REQUIRE(f.run_until([&] { return done; }));
  f.service.reset();
  CHECK_FALSE(std::filesystem::exists(f.run_dir + "/store.sock"));
  CHECK_FALSE(std::filesystem::exists(f.run_dir + "/tenants/alice"));
  CHECK_FALSE(std::filesystem::exists(f.run_dir + "/tenants/bob"));
}
