#pragma once
// The shared store process: the supervisor binds `<run-dir>/store.sock`
// (owner-only) and passes the listening socket to portbroker-store, so the
// store itself needs no filesystem access. Workers get their store
// connections from the supervisor, already connected.

#include <uv.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "common/one_shot_timer.h"
#include "supervisor/child_process.h"
#include "supervisor/store_probe.h"

namespace supervisor {

class StoreService {
 public:
  // `sandbox_args` tell portbroker-store how to confine itself (user, group).
  // `on_lost` runs each time the store process ends unexpectedly (it is
  // restarted; connections handed out before are broken).
  StoreService(uv_loop_t* loop, std::string run_dir, std::string log_level, std::vector<std::string> sandbox_args,
               bool namespaces, std::function<void()> on_lost);
  StoreService(const StoreService&) = delete;
  StoreService& operator=(const StoreService&) = delete;

  bool start(std::string& error);
  // A new connection to the store (a worker's ctx.shared).
  bool connect(common::UniqueFd& out, std::string& error);
  // The number of keys as the store last said (DBSIZE, asked
  // asynchronously every second: see StoreProbe).
  std::optional<uint64_t> key_count();
  // SIGTERM, then SIGKILL after a grace period; `done` runs once it is gone.
  void stop(std::function<void()> done);

  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return child_.pid(); }
  bool running() const { return child_.running(); }
  unsigned restarts() const { return restarts_; }
  const std::string& last_exit() const { return last_exit_; }
  const std::vector<std::string>& namespaces() const { return child_.namespaces(); }

 private:
  bool spawn(std::string& error);
  void on_exit(int64_t status, int term_signal);
  void schedule_restart();

  uv_loop_t* loop_;
  std::string run_dir_;
  std::string socket_path_;
  std::string log_level_;
  std::vector<std::string> sandbox_args_;
  bool namespaces_;
  common::UniqueFd listen_fd_;
  ChildProcess child_;
  common::OneShotTimer timer_;
  StoreProbe probe_;
  std::function<void()> on_stopped_;
  std::function<void()> on_lost_;
  bool stopping_ = false;
  unsigned restarts_ = 0;
  unsigned consecutive_failures_ = 0;
  uint64_t started_ms_ = 0;
  std::string last_exit_;
};

}  // namespace supervisor
