#pragma once
// One handler file and everything the supervisor runs for it: the claim on its
// port, the listening socket, the worker, the connections handed to it, and
// the counters and state shown by `portbrokerctl status`.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/one_shot_timer.h"
#include "supervisor/admission.h"
#include "supervisor/firewall_rules.h"
#include "supervisor/connection_tracker.h"
#include "supervisor/handler_scan.h"
#include "supervisor/tcp_listener.h"
#include "supervisor/udp_endpoint.h"
#include "supervisor/worker_process.h"

namespace supervisor {

class Broker;

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

class Handler final : public ConnectionOwner {
 public:
  Handler(Broker& broker, HandlerFile file);
  ~Handler();
  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;

  // The claim was lost to `holder`.
  void refuse(const std::string& holder);
  // The claim was won: bind the port, start the worker.
  void start();
  // Graceful stop: no new connections, close(ctx), drain, worker exits.
  void stop(std::function<void()> done);
  // The store went away: give the running worker fresh connections, which the
  // listening socket queues until the restarted store accepts them.
  void reconnect_store();

  const HandlerFile& file() const { return file_; }
  HandlerState state() const { return state_; }
  bool settled() const { return state_ != HandlerState::starting; }
  nlohmann::json status() const;
  // What the kernel should screen for this handler's port (its manifest's
  // allow/deny), while it holds the port.
  std::optional<FirewallPort> firewall_port() const;

  void on_connection_closed(uint64_t id, const TrackedConnection& connection, bool idle) override;

 private:
  void fail(const std::string& reason);
  void on_ready(const std::string& access_json);
  // The worker confined itself: parse its report and check it against /proc.
  void on_sandbox_report(const std::string& report);
  void refuse_connection(policy::Refusal reason, const common::SocketAddress& remote);
  void on_exit(const std::string& description);
  // Spawns a worker for the port already bound; used at start and restart.
  void spawn_worker();
  void schedule_restart(const std::string& description);
  void pause_traffic();
  void on_accept(common::UniqueFd fd, const common::SocketAddress& remote, const common::SocketAddress& local);
  void on_datagrams(const ipc::DatagramBatch& batch);
  bool on_replies(std::span<const uint8_t> batch);
  void finish_stop();

  Broker& broker_;
  HandlerFile file_;
  HandlerState state_ = HandlerState::starting;
  std::string reason_;
  std::string held_by_;
  std::unique_ptr<WorkerProcess> worker_;
  std::unique_ptr<TcpListener> tcp_;
  std::unique_ptr<UdpEndpoint> udp_;
  common::OneShotTimer deadline_;
  std::function<void()> on_stopped_;
  HandlerCounters counters_;
  std::unique_ptr<Admission> admission_;
  bool access_exported_ = false;
  std::vector<std::string> access_warnings_;
  std::string last_exit_;
  std::string last_reason_;             // what the worker said before it ended
  nlohmann::json sandbox_ = nullptr;    // the worker's confinement report
  unsigned restarts_ = 0;               // total, for status
  unsigned consecutive_crashes_ = 0;    // in a row, without a stable minute between
  uint64_t active_since_ms_ = 0;
  common::OneShotTimer restart_timer_;
};

}  // namespace supervisor
