#pragma once
// portbrokerd's top level: owns the run directory, the store, the connection
// tracker, the control socket and every handler; starts them in order and stops
// them in reverse on SIGTERM/SIGINT.

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/one_shot_timer.h"
#include "common/service_notifier.h"
#include "common/uv_handle.h"
#include "policy/claim_table.h"
#include "supervisor/connection_tracker.h"
#include "supervisor/control_server.h"
#include "supervisor/firewall.h"
#include "supervisor/folder_watch.h"
#include "supervisor/handler.h"
#include "supervisor/handler_scan.h"
#include "supervisor/local_ca.h"
#include "supervisor/metrics_listener.h"
#include "supervisor/options.h"
#include "supervisor/latency_slice.h"
#include "supervisor/store_service.h"
#include "supervisor/worker_identity.h"

namespace supervisor {

// A burst of folder changes settles this long before it is acted on, and
// never longer than the maximum.
inline constexpr uint64_t kSettleMs = 15;
inline constexpr uint64_t kMaxSettleMs = 1000;
// A file (handler or manifest) missing from one scan is gone only if the
// next scan, this much later, agrees: editors and sync tools delete and
// write back, and a manifest missing for a moment must not open its port.
inline constexpr uint64_t kConfirmAbsenceMs = 500;

class Broker {
 public:
  Broker(uv_loop_t* loop, Options options);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Runs until stopped; returns the process exit status.
  int run();

  uv_loop_t* loop() const { return loop_; }
  const Options& options() const { return options_; }
  ConnectionTracker& tracker() { return tracker_; }
  StoreService& store() { return *store_; }
  const std::string& worker_executable() const { return worker_executable_; }
  // The unprivileged user and group workers and the store run as.
  const WorkerIdentity& worker_identity() const { return worker_; }
  uid_t worker_uid() const { return worker_.uid; }
  gid_t worker_gid() const { return worker_.gid; }
  uint64_t next_connection_id() { return ++last_connection_id_; }
  // How many connections the broker may hold at once, all handlers
  // together: its descriptor limit, less a reserve for its own needs (worker
  // channels, listeners, the store, the control socket). A handler's
  // maxConnections is capped by it too, and status says so.
  uint64_t connection_ceiling() const { return connection_ceiling_; }
  // On-demand TLS certificates' issuer, under <state_dir>/ca.
  LocalCa& local_ca() { return local_ca_; }
  // A handler left `starting`; once all have, the broker is ready.
  void handler_settled();

  nlohmann::json status() const;
  // Live TCP connections (all, or of the handler named `handler`), for
  // `portbrokerctl conns`.
  nlohmann::json connections(const std::string& handler) const;
  std::string metrics();
  void request_shutdown();
  // SIGHUP, `portbrokerctl reload`: a rescan that also retries failed handlers.
  bool reload(const char* by, std::string& error);
  // Programs nftables for every handler holding its port (after any change).
  void apply_firewall();
  // A worker became ready: the folders its imports live in are watched too.
  void watch_subfolders();
  // Something may have changed unseen (a file changed while a worker read
  // it): rescan once the loop is free.
  void request_rescan();

 private:
  bool prepare_run_dir(std::string& error);
  // Reads the folder again and reconciles: new files claim their ports,
  // changed ones reload, removed ones drain and give their ports up. False
  // only when the folder cannot be read.
  // `forced` (SIGHUP, `portbrokerctl reload`) also retries failed handlers
  // whose files did not change.
  bool rescan(std::string& error, bool forced = false);
  // From timers and watches, where nobody waits for the answer.
  void rescan_logged();
  // Files of `scan` missing now but present before wait for a second scan;
  // returns the handlers whose absence is confirmed.
  std::vector<Handler*> confirm_absences(ScanResult& scan);
  Handler* find_handler(const std::string& file) const;
  // One line for the service manager's status.
  std::string summary() const;
  void remove_handler(Handler& handler);
  // `handler` gave its port up: the earliest waiting claimant takes it.
  void hand_over(const Handler& handler);
  nlohmann::json on_control(const nlohmann::json& request);
  void on_signal(int signum);
  void finish_shutdown();

  uv_loop_t* loop_;
  Options options_;
  common::ServiceNotifier notifier_;
  std::string worker_executable_;
  LocalCa local_ca_;
  WorkerIdentity worker_;
  std::vector<std::string> capabilities_;
  uint64_t started_ms_ = 0;
  ConnectionTracker tracker_;
  std::unique_ptr<StoreService> store_;
  LatencySlice latency_slice_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsListener> metrics_listener_;
  std::unique_ptr<Firewall> firewall_;
  // Shutdown finishes on its own loop turn, never inside a callback of an
  // object it destroys.
  common::OneShotTimer finish_timer_;
  policy::ClaimTable claims_;
  std::vector<std::unique_ptr<Handler>> handlers_;
  std::set<const Handler*> removing_;  // stopping because their file went away
  std::vector<const Handler*> removed_;  // stopped; destroyed on the next turn
  common::OneShotTimer removal_timer_;
  // Files missing from the latest scan, not yet confirmed gone: since when.
  std::map<std::string, uint64_t> missing_since_;
  common::OneShotTimer rescan_timer_;
  std::unique_ptr<FolderWatch> watch_;
  std::vector<IgnoredFile> ignored_;
  std::vector<common::UvHandle<uv_signal_t>> signals_;
  uint64_t last_connection_id_ = 0;
  uint64_t connection_ceiling_ = UINT64_MAX;
  bool ready_logged_ = false;
  bool shutting_down_ = false;
  bool finishing_ = false;
  size_t handlers_stopping_ = 0;
  int exit_code_ = 0;
};

}  // namespace supervisor
