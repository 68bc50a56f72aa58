#pragma once
// portbrokerd's top level: owns the run directory, the store, the connection
// tracker, the control socket and every handler; starts them in order and stops
// them in reverse on SIGTERM/SIGINT.

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
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
#include "supervisor/handler_folder.h"
#include "supervisor/local_ca.h"
#include "supervisor/metrics_listener.h"
#include "supervisor/options.h"
#include "supervisor/latency_slice.h"
#include "supervisor/store/relay_backend.h"
#include "supervisor/store/store_service.h"
#include "supervisor/worker_identity.h"

namespace supervisor {

class Broker final : public FolderHost {
 public:
  Broker(uv_loop_t* loop, Options options);
  ~Broker() override;
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Runs until stopped; returns the process exit status.
  int run();

  const Options& options() const { return options_; }
  // The unprivileged user and group the operator's workers and the store run as.
  const WorkerIdentity& worker_identity() const { return worker_; }

  // FolderHost
  uv_loop_t* loop() override { return loop_; }
  const policy::BrokerConfig& config() const override { return options_.config; }
  policy::ClaimTable& claims() override { return claims_; }
  ConnectionTracker& tracker() override { return tracker_; }
  // On-demand TLS certificates' issuer, under <state_dir>/ca.
  LocalCa& local_ca() override { return local_ca_; }
  const std::string& worker_executable() const override { return worker_executable_; }
  uint64_t next_connection_id() override { return ++last_connection_id_; }
  // How many connections the broker may hold at once, all handlers
  // together: its descriptor limit, less a reserve for its own needs (worker
  // channels, listeners, the store, the control socket). A handler's
  // maxConnections is capped by it too, and status says so.
  uint64_t connection_ceiling() const override { return connection_ceiling_; }
  bool connect_store(const std::string& tenant, common::UniqueFd& out, std::string& error) override;
  // Programs nftables for every handler holding its port (after any change).
  void apply_firewall() override;
  // A handler left `starting`; once all have, the broker is ready.
  void handler_settled() override;
  void hand_over(const Handler& handler) override;
  bool shutting_down() const override { return shutting_down_; }

  // Everything, or (`only`) one folder's handlers: what a tenant's user, or
  // root asking with --tenant, sees.
  nlohmann::json status(const HandlerFolder* only = nullptr) const;
  // Live TCP connections (all, or of the handler named `handler`), for
  // `portbrokerctl conns`.
  nlohmann::json connections(const std::string& handler, const HandlerFolder* only = nullptr) const;
  std::string metrics(const HandlerFolder* only = nullptr);
  void request_shutdown();
  // SIGHUP, `portbrokerctl reload`: a rescan that also retries failed
  // handlers, of every folder or of `only`.
  bool reload(const char* by, std::string& error, HandlerFolder* only = nullptr);

 private:
  bool prepare_run_dir(std::string& error);
  // The operator's folder, then each tenant's, each with its identity;
  // false (with `error`, naming the tenant and field) if one cannot be set up.
  bool make_folders(std::string& error);
  // A tenant's part of the store, control group and folder, as `identity`.
  bool make_tenant_folder(const policy::TenantConfig& tenant, const WorkerIdentity& identity, std::string& error);
  // Reads the config file again and applies what changed in the tenants:
  // new ones start, removed ones retire (their handlers drain and their
  // ports close), changed ones restart, or only take new limits; one whose
  // last start failed is tried again. Every other tenant is untouched. An
  // invalid file, or a tenant this host cannot run (its folder, its user, a
  // uid collision), keeps the config in force, with the error in status.
  // Other settings need a restart.
  void reload_config();
  // A tenant's folder leaves: its handlers stop, then it goes.
  void retire_folder(HandlerFolder& folder);
  // Every handler of every folder, those of tenants being removed included.
  template <typename Visit>
  void for_each_handler(Visit&& visit) const {
    for (const auto* list : {&folders_, &retiring_folders_}) {
      for (const auto& folder : *list) {
        for (const auto& handler : folder->handlers()) visit(*folder, *handler);
      }
    }
  }
  // One line for the service manager's status.
  std::string summary() const;
  // Once ready: tells the service manager the summary (STATUS=) whenever it
  // changed, so `systemctl status` follows handlers the folder watcher adds,
  // loses or fails, not only those of start-up and reloads.
  void report_status();
  nlohmann::json on_control(const nlohmann::json& request, uid_t peer_uid);
  HandlerFolder* tenant_folder(const std::string& name) const;
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
  sandbox::CgroupTree cgroups_;  // tenants' control groups, where the host has them
  std::string config_error_;      // why the config file's latest version is not in force
  std::vector<std::unique_ptr<HandlerFolder>> retiring_folders_;  // removed tenants draining
  common::OneShotTimer retired_timer_;
  // The operator's folder first, then one per tenant (in name order).
  std::vector<std::unique_ptr<HandlerFolder>> folders_;
  std::vector<common::UvHandle<uv_signal_t>> signals_;
  uint64_t last_connection_id_ = 0;
  uint64_t connection_ceiling_ = UINT64_MAX;
  bool ready_logged_ = false;
  std::string reported_status_;  // the last STATUS= sent
  bool shutting_down_ = false;
  bool finishing_ = false;
  size_t folders_stopping_ = 0;
  int exit_code_ = 0;
};

}  // namespace supervisor
