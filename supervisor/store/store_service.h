#pragma once
// The shared store process: the supervisor binds `<run-dir>/store.sock`
// (owner-only) and passes the listening socket to portbroker-store, so the
// store itself needs no filesystem access. Workers get their store
// connections from the supervisor, already connected.
//
// Tenants get scopes, each its own part of the store (keys and channels
// `<tenant>:...`, a quota; store/commands.h): for each the supervisor binds
// `<run-dir>/tenants/<tenant>/store.sock`, owned by the tenant's uid, and
// gives the listening socket to the store over its control channel (fd 4,
// ipc::StoreScope). A client of that socket is in the tenant's scope; the
// operator's `<run-dir>/store.sock` sees everything.
//
// What backs the store (supervisor/store/backend.h) is the embedded store
// by default, or Redis/Valkey through portbroker-store's relay mode: the
// sockets, scopes and restarts are the same either way.

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/unique_fd.h"
#include "common/one_shot_timer.h"
#include "common/uv_handle.h"
#include "ipc/channel.h"
#include "supervisor/child_process.h"
#include "supervisor/store/backend.h"
#include "supervisor/store/store_probe.h"

namespace supervisor {

class StoreService final : private StoreControl {
 public:
  // `sandbox_args` tell portbroker-store how to confine itself (user, group).
  // `on_lost` runs each time the store process ends unexpectedly (it is
  // restarted; connections handed out before are broken).
  StoreService(uv_loop_t* loop, std::string run_dir, std::string log_level, std::vector<std::string> sandbox_args,
               bool namespaces, std::function<void()> on_lost,
               std::unique_ptr<StoreBackend> backend = make_embedded_backend());
  StoreService(const StoreService&) = delete;
  StoreService& operator=(const StoreService&) = delete;

  bool start(std::string& error);
  // A new connection to the store, unscoped (the operator's handlers).
  bool connect(common::UniqueFd& out, std::string& error);
  // A new connection in `tenant`'s scope (a worker's ctx.shared); an empty
  // `tenant` is the unscoped form above. Fails for a tenant without a scope,
  // and when the tenant's socket is not the one the supervisor bound (the
  // tenant owns its folder and may have replaced it).
  bool connect(const std::string& tenant, common::UniqueFd& out, std::string& error);

  // Gives `tenant` its scope with a quota of `max_bytes`: creates
  // <run-dir>/tenants/ (root's, 0755) and <run-dir>/tenants/<tenant>/ (the
  // tenant's, 0700), binds store.sock in it (the tenant's, 0600) and sends
  // the listening socket to the store. Again for a tenant it has: a new
  // quota, and if uid or gid changed, a new socket for the new owner (the
  // old one's connections stay). Kept, so a restarted store gets every scope
  // again. Works before start() too.
  bool add_scope(const std::string& tenant, uid_t uid, gid_t gid, uint64_t max_bytes, std::string& error);
  // Tells the store (its listener and clients close; its keys stay, reachable
  // through the unscoped socket), closes and removes the socket and folder.
  void remove_scope(const std::string& tenant);
  bool has_scope(const std::string& tenant) const { return scopes_.contains(tenant); }
  // <run-dir>/tenants/<tenant>/store.sock
  std::string scope_socket_path(const std::string& tenant) const;

  // The number of keys as the store last said (DBSIZE, asked
  // asynchronously every second: see StoreProbe). All scopes' keys.
  std::optional<uint64_t> key_count();
  // SIGTERM, then SIGKILL after a grace period; `done` runs once it is gone.
  void stop(std::function<void()> done);

  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return child_.pid(); }
  bool running() const { return child_.running(); }
  unsigned restarts() const { return restarts_; }
  const std::string& last_exit() const { return last_exit_; }
  const std::vector<std::string>& namespaces() const { return child_.namespaces(); }
  // What backs it, and its state (docs/cluster.md): {"kind": "embedded"}, ...
  nlohmann::json backend_status() const { return backend_->status(); }

 private:
  struct Scope {
    uid_t uid = 0;
    gid_t gid = 0;
    uint64_t max_bytes = 0;
    common::UniqueFd listen_fd;
    // The socket as bound, so a replaced one is noticed before connecting.
    dev_t device = 0;
    ino_t inode = 0;
  };
  struct Outgoing {
    std::vector<uint8_t> bytes;
    std::vector<common::UniqueFd> fds;  // duplicates of what was attached
  };

  bool spawn(std::string& error);
  void on_exit(int64_t status, int term_signal);
  void schedule_restart();
  std::string scope_dir(const std::string& tenant) const;
  // Makes the folder and a fresh listening socket for `scope`, owned by its
  // uid and gid.
  bool make_scope_socket(const std::string& tenant, Scope& scope, std::string& error);
  // Removes the socket and the folder (both may be gone already).
  void remove_scope_files(const std::string& tenant);
  // Sends a control message to the store if one is running (a restarted one
  // is sent every scope anyway), queueing it while the channel is full.
  void send_control(std::vector<uint8_t> bytes, std::span<const int> fds = {}) override;
  void send_control(std::vector<uint8_t> bytes, int fd) {
    send_control(std::move(bytes), fd >= 0 ? std::span<const int>(&fd, 1) : std::span<const int>());
  }
  void send_queued();
  // What the store sends (its relay's requests and reports) goes to the backend.
  void read_control();
  void watch_control();
  void close_control();

  uv_loop_t* loop_;
  std::string run_dir_;
  std::string socket_path_;
  std::string log_level_;
  std::vector<std::string> sandbox_args_;
  bool namespaces_;
  common::UniqueFd listen_fd_;
  std::map<std::string, Scope> scopes_;
  common::UniqueFd control_;  // the supervisor's end of the running store's control channel
  common::UvHandle<uv_poll_t> control_poll_;
  int control_events_ = 0;
  ipc::MessageReader control_reader_;
  std::deque<Outgoing> outbox_;
  ChildProcess child_;
  common::OneShotTimer timer_;
  StoreProbe probe_;
  std::function<void()> on_stopped_;
  std::function<void()> on_lost_;
  std::unique_ptr<StoreBackend> backend_;
  bool stopping_ = false;
  unsigned restarts_ = 0;
  unsigned consecutive_failures_ = 0;
  uint64_t started_ms_ = 0;
  std::string last_exit_;
};

}  // namespace supervisor
