#pragma once
// One handlers folder and the handlers it holds: the operator's, or a
// tenant's. It reads the folder and reconciles (new files claim their ports,
// changed ones reload, removed ones drain once their absence is confirmed),
// watches it, and is each of its handlers' HandlerContext. What is
// host-wide (the claims on ports, the tracker, the store, the firewall, the
// local CA) stays with the broker behind FolderHost.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/one_shot_timer.h"
#include "policy/claim_table.h"
#include "policy/tenant_config.h"
#include "supervisor/folder_watch.h"
#include "supervisor/handler.h"
#include "supervisor/handler_context.h"
#include "supervisor/handler_scan.h"

namespace supervisor {

// A burst of folder changes settles this long before it is acted on, and
// never longer than the maximum.
inline constexpr uint64_t kSettleMs = 15;
inline constexpr uint64_t kMaxSettleMs = 1000;
// A file (handler or manifest) missing from one scan is gone only if the
// next scan, this much later, agrees: editors and sync tools delete and
// write back, and a manifest missing for a moment must not open its port.
inline constexpr uint64_t kConfirmAbsenceMs = 500;

class ConnectionTracker;
class LocalCa;

// What a folder needs from the broker.
class FolderHost {
 public:
  virtual ~FolderHost() = default;
  virtual uv_loop_t* loop() = 0;
  virtual const policy::BrokerConfig& config() const = 0;
  virtual policy::ClaimTable& claims() = 0;
  virtual ConnectionTracker& tracker() = 0;
  virtual LocalCa& local_ca() = 0;
  virtual const std::string& worker_executable() const = 0;
  virtual uint64_t next_connection_id() = 0;
  virtual uint64_t connection_ceiling() const = 0;
  // A connection to the shared store, in `tenant`'s part of it ("" for the operator's).
  virtual bool connect_store(const std::string& tenant, common::UniqueFd& out, std::string& error) = 0;
  virtual void apply_firewall() = 0;
  virtual void handler_settled() = 0;
  // `handler` gave its port up: the earliest waiting claimant (in any folder) takes it.
  virtual void hand_over(const Handler& handler) = 0;
  virtual bool shutting_down() const = 0;
};

class HandlerFolder final : public HandlerContext {
 public:
  // The operator's folder: `tenant` is null; no port restriction, the
  // broker's worker user, its key directories and domains.
  HandlerFolder(FolderHost& host, std::string dir, WorkerIdentity identity, policy::TlsSources tls,
                const policy::TenantConfig* tenant, sandbox::CgroupPlacement cgroup, std::string cgroup_note);
  ~HandlerFolder() override;
  HandlerFolder(const HandlerFolder&) = delete;
  HandlerFolder& operator=(const HandlerFolder&) = delete;

  // Starts watching and reads the folder; false only if it cannot be read.
  bool start(std::string& error);
  // Reads the folder again and reconciles. `forced` (SIGHUP, reload) also
  // retries failed handlers whose files did not change.
  bool rescan(std::string& error, bool forced = false);
  // Every handler drains and stops; `done` once all have.
  void stop_all(std::function<void()> done);
  // Stops watching and destroys every handler at once (shutdown's end).
  void clear();

  // A tenant whose settings changed while running: limits, TLS sources.
  void update_tenant(const policy::TenantConfig& tenant);

  Handler* find(const std::string& file) const;
  // The name a handler's claim goes by: its file, prefixed by the tenant.
  std::string claim_name(const std::string& file) const;
  const std::vector<std::unique_ptr<Handler>>& handlers() const { return handlers_; }
  bool removing(const Handler* handler) const { return removing_.count(handler) != 0; }
  const std::vector<IgnoredFile>& ignored() const { return ignored_; }
  nlohmann::json status_of(const Handler& handler) const;
  nlohmann::json tenant_status() const;

  // HandlerContext
  uv_loop_t* loop() override { return host_.loop(); }
  const policy::BrokerConfig& config() const override { return host_.config(); }
  const std::string& handlers_dir() const override { return dir_; }
  const std::string& tenant() const override { return tenant_name_; }
  const WorkerIdentity& worker_identity() const override { return identity_; }
  const policy::TlsSources& tls_sources() const override { return tls_; }
  const std::vector<policy::EgressRule>* egress_cap() const override {
    return tenant_ ? &tenant_->egress : nullptr;
  }
  LocalCa& local_ca() override { return host_.local_ca(); }
  bool connect_store(common::UniqueFd& out, std::string& error) override {
    return host_.connect_store(tenant_name_, out, error);
  }
  ConnectionTracker& tracker() override { return host_.tracker(); }
  const std::string& worker_executable() const override { return host_.worker_executable(); }
  const sandbox::CgroupPlacement& worker_cgroup() const override { return cgroup_; }
  bool group_out_of_memory() override {
    uint64_t now = sandbox::oom_kills(cgroup_);
    bool struck = now > oom_kills_seen_;
    oom_kills_seen_ = now;
    return struck;
  }
  uint64_t group_process_limit_hits() const override { return sandbox::process_limit_hits(cgroup_); }
  uint64_t next_connection_id() override { return host_.next_connection_id(); }
  uint64_t connection_ceiling() const override { return host_.connection_ceiling(); }
  bool connection_quota_full() const override { return tenant_ && connections_ >= tenant_->limits.connections; }
  void connection_opened() override { ++connections_; }
  void connection_closed() override {
    if (connections_ > 0) --connections_;
  }
  void apply_firewall() override { host_.apply_firewall(); }
  void handler_settled() override { host_.handler_settled(); }
  void request_rescan() override;
  void watch_subfolders() override;

 private:
  // Files of `scan` missing now but present before wait for a second scan;
  // returns the handlers whose absence is confirmed.
  std::vector<Handler*> confirm_absences(ScanResult& scan);
  void rescan_logged();
  void remove_handler(Handler& handler);
  // Why a tenant's file may not run, or empty: a port outside its
  // allowance, one handler too many.
  std::string tenant_refusal(const HandlerFile& file) const;

  FolderHost& host_;
  std::string dir_;
  WorkerIdentity identity_;
  policy::TlsSources tls_;
  std::optional<policy::TenantConfig> tenant_;
  std::string tenant_name_;
  sandbox::CgroupPlacement cgroup_;
  std::string cgroup_note_;  // why a tenant has no group (the watchdog applies), for status
  uint64_t oom_kills_seen_ = 0;
  uint64_t connections_ = 0;
  std::vector<std::unique_ptr<Handler>> handlers_;
  std::set<const Handler*> removing_;    // stopping because their file went away
  std::set<const Handler*> refused_outright_;  // a tenant's, outside its ports or quota: never claimed
  std::vector<const Handler*> removed_;  // stopped; destroyed on the next turn
  common::OneShotTimer removal_timer_;
  // Files missing from the latest scan, not yet confirmed gone: since when.
  std::map<std::string, uint64_t> missing_since_;
  common::OneShotTimer rescan_timer_;
  std::unique_ptr<FolderWatch> watch_;
  std::vector<IgnoredFile> ignored_;
};

}  // namespace supervisor
