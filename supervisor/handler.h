#pragma once
// One handler file and everything the supervisor runs for it: the claim on its
// port, the listening socket, its workers, the connections handed to them, and
// the counters and state shown by `portbrokerctl status`.
//
// Workers come and go while the port stays bound. A crashed worker is
// restarted. A changed file loads in a candidate worker while the current one
// keeps serving; once the candidate is ready it takes the new connections and
// the old worker retires (ctx.signal aborted, close(ctx) awaited, its
// connections drained), so a reload never refuses a connection.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/one_shot_timer.h"
#include "supervisor/admission.h"
#include "supervisor/connection_tracker.h"
#include "supervisor/egress/dialer.h"
#include "supervisor/firewall_rules.h"
#include "supervisor/handler_context.h"
#include "supervisor/handler_scan.h"
#include "supervisor/tcp_listener.h"
#include "supervisor/handler_tls.h"
#include "supervisor/proxy/proxy_gate.h"
#include "supervisor/udp_endpoint.h"
#include "supervisor/worker_process.h"

namespace supervisor {


enum class HandlerState { starting, active, refused, failed, draining, stopped };
std::string_view state_name(HandlerState state);

struct HandlerCounters {
  uint64_t accepted = 0;
  uint64_t active = 0;
  uint64_t refused = 0;
  uint64_t datagrams_received = 0;
  uint64_t datagrams_refused = 0;
  uint64_t datagrams_dropped = 0;
  uint64_t replies_sent = 0;
  uint64_t replies_failed = 0;
  uint64_t replies_refused = 0;
};

class Handler final {
 public:
  Handler(HandlerContext& context, HandlerFile file);
  ~Handler();
  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;

  // The claim was lost to `holder`.
  void refuse(const std::string& holder);
  // Not allowed to run at all (a tenant's port outside its allowance, one
  // handler past its quota): it never claims, binds or reaches the firewall.
  void refuse_outright(const std::string& reason);
  const std::string& reason() const { return reason_; }
  // The claim was won (at start, or from a holder that went away): bind the
  // port, start the worker.
  void start();
  // Whether `file` (this handler's file, scanned again) differs from the
  // version running or loading: the entry file, any file it imported, or the
  // manifest.
  bool changed(const HandlerFile& file) const;
  // Applies a changed file: new code loads beside the old, a new manifest
  // applies at once; an invalid one keeps the old policy.
  void update(HandlerFile file);
  // Graceful stop: no new connections, close(ctx), drain, workers exit;
  // `done` then. `port_released` runs once the port is free for another
  // claimant: at once for TCP (the listener closes first; accepted
  // connections drain on their own sockets), after the drain for UDP (replies
  // leave through the port's socket). Stopping again adds to `done`.
  void stop(std::function<void()> done, std::function<void()> port_released = nullptr);
  // The tenant's egress cap changed: the policy for connects that follow.
  void refresh_egress();
  // The store went away: give every running worker fresh connections, which
  // the listening socket queues until the restarted store accepts them.
  void reconnect_store();

  const HandlerFile& file() const { return file_; }
  HandlerState state() const { return state_; }
  bool settled() const { return state_ != HandlerState::starting; }
  nlohmann::json status() const;
  // What the kernel should screen for this handler's port (its manifest's
  // allow/deny), while it holds the port.
  std::optional<FirewallPort> firewall_port() const;
  // Its manifest's `connect` entries while it runs (the kernel's egress
  // rules admit their union; `access` and tenant caps only narrow them).
  std::vector<policy::EgressRule> firewall_egress() const;
  // Folders (relative to the handlers folder) holding files its serving or
  // latest failed version read, so changes there are watched too.
  std::vector<std::string> module_dirs() const;
  // Absolute folders holding its TLS certificates and keys (rotations are
  // picked up from there).
  std::vector<std::string> tls_dirs() const;
  // Why the latest change on disk is not in force (empty: it is).
  std::string reload_error() const;

 private:
  // One worker process, the version of the file it runs, and what it said.
  struct Worker {
    std::unique_ptr<WorkerProcess> process;
    HandlerFile file;
    bool ready = false;
    std::string last_reason;          // what it said before it ended
    nlohmann::json sandbox = nullptr;  // its confinement report
    std::string access_json;          // its module's `access` export
    bool http_client = false;         // started with fetch()'s HTTP client
    std::vector<ipc::ModuleFile> modules;  // what it loaded, once ready
    std::vector<ipc::ModuleFile> tried;    // what it read before it failed
    uint64_t process_limit_hits_at_start = 0;  // its group's, when it was spawned
  };

  // Spawns a worker for `file` on the port already bound; null (with
  // `error`) if it cannot start.
  std::unique_ptr<Worker> launch(const HandlerFile& file, std::string& error);
  void spawn_current();
  void start_candidate(HandlerFile file);
  void promote();
  // Ends a worker that is no longer current: gracefully (close(ctx), drain)
  // when asked and it is ready, otherwise killed. It is kept until its
  // process exits.
  void retire(std::unique_ptr<Worker> worker, bool graceful);
  // Destroys an ended worker on the next loop turn, outside its callbacks.
  void reap(std::unique_ptr<Worker> worker);
  std::unique_ptr<Worker> take(Worker* worker);
  // New store connections for one worker (its own broke, or the store restarted).
  void reconnect_store(Worker& worker);

  void on_worker_ready(Worker* worker, const ipc::WorkerReady& ready);
  void on_worker_failed(Worker* worker, const ipc::WorkerFailed& failed);
  void on_modules_loaded(Worker* worker, const ipc::ModulesLoaded& loaded);
  void on_worker_exit(Worker* worker, const std::string& description);
  // Whether its group's process limit refused anything since it was spawned
  // (perhaps to another of the tenant's workers: the kernel does not say).
  bool hit_process_limit(const Worker& worker) const;
  std::string process_limit_note() const;
  // `process_limit`: its tenant's pids limit refused it something (worth retrying).
  void on_current_exit(const std::string& description, bool process_limit);
  // The worker confined itself: parse its report and check it against /proc.
  void on_sandbox_report(Worker* worker, const ipc::WorkerSandbox& report);
  void reload_failed(const std::string& reason);
  // The candidate did not make it (failed, too slow, refused by the
  // supervisor). The version in force stays; if none is running any more, a
  // restart loads what is on disk.
  void drop_candidate(const std::string& reason);
  bool code_changed(const HandlerFile& file) const;
  // Whether any file in `seen` now differs from the version recorded there
  // (`file`'s own entry by the stamp its scan took).
  bool differs(const std::vector<ipc::ModuleFile>& seen, const HandlerFile* file) const;
  // The version a candidate for `file` starts from: its entry as scanned, and
  // the imports known so far as they are now.
  std::vector<ipc::ModuleFile> stamps_now(const HandlerFile& file) const;
  void now_serving(const std::vector<ipc::ModuleFile>& modules);
  void release_port();
  void apply_manifest(const HandlerFile& file);
  // The egress policy for `file` narrowed by `access_json` (already checked
  // by build_admission) into the dialer; warnings join `warnings`.
  void apply_egress(const HandlerFile& file, const std::string& access_json, std::vector<std::string>& warnings);
  // An admission for `file` tightened by `access_json`, carrying over the
  // live state of the current one; null (with `error`) if the access export
  // is invalid.
  std::unique_ptr<Admission> build_admission(const HandlerFile& file, const std::string& access_json,
                                             std::vector<std::string>& warnings, std::string& error);
  void resume_traffic();
  void pause_traffic();
  // The manifest's TLS settings when it asks for TLS, else null.
  static const policy::TlsSettings* tls_settings(const HandlerFile& file);
  void put_tls_in_force(TlsMaterial material);
  // The material in force to every running worker.
  void send_tls_update();

  void fail(const std::string& reason);
  void schedule_restart(const std::string& description);
  void finish_stop_when_idle();
  void refuse_connection(policy::Refusal reason, const common::SocketAddress& remote);
  void on_accept(common::UniqueFd fd, const common::SocketAddress& remote);
  // Screens `remote` (the socket's peer, or the client a trusted balancer
  // declared) and hands the connection off.
  void admit(common::UniqueFd fd, const common::SocketAddress& remote, std::optional<ipc::ProxyInfo> proxy);
  void on_connection_closed(const TrackedConnection& connection, bool idle);
  void on_datagrams(const ipc::DatagramBatch& batch);
  bool on_replies(std::span<const uint8_t> batch);

  HandlerContext& ctx_;
  HandlerFile file_;  // the version serving (or last attempted)
  HandlerState state_ = HandlerState::starting;
  std::string reason_;
  std::string held_by_;
  std::unique_ptr<Worker> current_;
  std::unique_ptr<Worker> candidate_;  // a new version loading
  std::vector<std::unique_ptr<Worker>> retiring_;
  std::vector<std::unique_ptr<Worker>> ended_;
  common::OneShotTimer reap_timer_;
  std::unique_ptr<TcpListener> tcp_;
  std::unique_ptr<UdpEndpoint> udp_;
  common::OneShotTimer deadline_;            // the current worker's ready deadline
  common::OneShotTimer candidate_deadline_;  // the candidate's
  std::function<void()> on_stopped_;
  std::function<void()> on_port_released_;
  HandlerCounters counters_;
  std::unique_ptr<Admission> admission_;
  bool access_exported_ = false;
  std::vector<std::string> access_warnings_;
  std::string last_exit_;
  unsigned restarts_ = 0;             // total, for status
  unsigned consecutive_crashes_ = 0;  // in a row, without a stable minute between
  uint64_t active_since_ms_ = 0;
  common::OneShotTimer restart_timer_;
  unsigned reloads_ = 0;
  // Why the latest change is not in force: the new code did not load, or
  // the new manifest is invalid (its signature kept so it is reported once).
  std::string code_error_;
  // Handler files (entry and imports) with the stamps each version read:
  // the one serving, the candidate loading (as of its launch), and the
  // latest one that failed to load (retried only once one of them changes).
  std::vector<ipc::ModuleFile> serving_modules_;
  std::vector<ipc::ModuleFile> candidate_modules_;
  std::vector<ipc::ModuleFile> failed_modules_;
  std::string manifest_error_;
  std::string rejected_manifest_;
  HandlerTls tls_;
  egress::Dialer dialer_;
  ProxyGate proxy_;  // PROXY protocol headers of connections from trusted balancers
};

}  // namespace supervisor
