#pragma once
// The supervisor's side of one worker: the process, and the channel carrying
// the init handshake, connection hand-offs, datagram batches and the stop
// request to it, and ready/failed/replies back.

#include <uv.h>

#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/one_shot_timer.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "supervisor/child_process.h"
#include "supervisor/connection_tracker.h"

namespace supervisor {

// Also the owner of the connections handed to it: the tracker reports their
// end here, and they are closed when the worker ends.
class WorkerProcess final : public ConnectionOwner {
 public:
  struct Events {
    std::function<void(const ipc::WorkerReady& ready)> ready;
    std::function<void(const ipc::WorkerFailed& failed)> failed;
    // False if the batch is malformed (the worker is then ended).
    std::function<bool(std::span<const uint8_t> batch)> replies;
    std::function<void(const std::string& exit_description)> exited;
    // Queued hand-offs all went out (accepting may resume).
    std::function<void()> drained;
    // A queued hand-off could not be sent; the connection must be closed.
    std::function<void(uint64_t connection_id)> handoff_failed;
    // What the worker's confinement achieved, before any handler code ran.
    std::function<void(const ipc::WorkerSandbox& report)> sandbox;
    // A connection handed to this worker closed (`idle`: by its idle timeout).
    std::function<void(uint64_t id, const TrackedConnection& connection, bool idle)> connection_closed;
    // TLS handshakes since the previous report.
    std::function<void(const ipc::TlsStats& delta)> tls_stats;
    // On-demand TLS: the worker asks for a certificate. It must be answered
    // (send_tls_certificate) before the worker may ask again.
    std::function<void(const ipc::TlsCertificateRequest& request)> tls_certificate_request;
    // Its store connections broke: it wants new ones (send_store_connections).
    // Asked at most once per kStoreReconnectIntervalMs, however often it asks.
    std::function<void()> store_reconnect;
    // Handler files a dynamic import() read after the worker was ready.
    std::function<void(const ipc::ModulesLoaded& loaded)> modules_loaded;
    // Egress (supervisor/egress/): each must be answered
    // (send_egress_connected, send_egress_lookup_result).
    std::function<void(const ipc::EgressConnect& request)> egress_connect;
    std::function<void(const ipc::EgressLookup& request)> egress_lookup;
  };

  // Hand-offs waiting for room in the channel; beyond this the handler stops
  // accepting and lets the kernel's listen queue hold new connections.
  static constexpr size_t kMaxQueuedHandoffs = 1024;
  // Bytes waiting for a worker that does not read its channel. Hand-offs
  // stop at kMaxQueuedHandoffs; TLS updates, certificates and store
  // connections are rare; egress answers come as often as the worker asks.
  // A worker past this is stuck or hostile, and it is ended rather than let
  // the supervisor grow. Each message counts kQueuedMessageCost on top of
  // its bytes (its entry, its allocations): a flood of 20-byte answers
  // costs the supervisor several times their size, and the cap bounds that.
  static constexpr size_t kMaxQueuedBytes = 8 * 1024 * 1024;
  static constexpr size_t kQueuedMessageCost = 128;
  // How long a worker that closed its channel on its way out may take to exit.
  static constexpr uint64_t kExitGraceMs = 2000;
  // A worker's requests for new store connections are served this far apart.
  static constexpr uint64_t kStoreReconnectIntervalMs = 1000;

  // `name` and `tenant` (empty for the operator's handlers) only label log lines.
  WorkerProcess(uv_loop_t* loop, std::string name, Events events, std::string tenant = "")
      : loop_(loop), name_(std::move(name)), tenant_(std::move(tenant)), events_(std::move(events)) {}
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Spawns the worker (in namespaces of its own when `init.sandbox`) and sends
  // it `init`.
  // `cgroup`: where it starts (a tenant's group), or nowhere in particular.
  bool start(const std::string& executable, ipc::WorkerInit init, common::UniqueFd store_command,
             common::UniqueFd store_subscription, std::string& error, const sandbox::CgroupPlacement& cgroup = {});
  // Sends a connection to the worker; the caller keeps its own descriptor.
  // False if the channel is gone.
  bool hand_off(const ipc::ConnectionHandoff& handoff, int fd);
  // False if the batch was dropped (channel full or gone).
  bool send_datagrams(std::span<const uint8_t> batch);
  // Asks the worker to stop (abort ctx.signal, close(ctx), drain); it is
  // killed if it has not exited after `kill_after_ms`.
  void stop(const ipc::WorkerStop& stop, uint64_t kill_after_ms);
  // The store restarted: new connections replace the worker's broken ones.
  bool send_store_connections(common::UniqueFd command, common::UniqueFd subscription);
  // Rotated TLS material, for the connections that follow.
  bool send_tls_update(const std::string& tls_json);
  bool send_tls_certificate(const ipc::TlsCertificate& answer);
  // Egress answers; `fd` (-1: none) is the connected socket, which the
  // caller keeps (the tracker holds the supervisor's reference).
  bool send_egress_connected(const ipc::EgressConnected& answer, int fd);
  bool send_egress_lookup_result(const ipc::EgressLookupResult& answer);
  void kill();
  // The worker will close its channel and exit on its own (a check-only
  // worker after its answer): not an error.
  void expect_exit() { stopping_ = true; }

  bool running() const { return child_.running(); }
  // The namespaces its clone created (the supervisor's own record).
  const std::vector<std::string>& namespaces() const { return child_.namespaces(); }
  pid_t pid() const { return child_.pid(); }
  const std::string& handler_name() const override { return name_; }
  const std::string& tenant_name() const override { return tenant_; }
  pid_t owner_pid() const override { return pid(); }
  size_t queued_handoffs() const { return outbox_.size(); }
  // The forbidden system call that ended it, if seccomp did ("socket").
  const std::string& seccomp_violation() const { return seccomp_violation_; }

  void on_connection_closed(uint64_t id, const TrackedConnection& connection, bool idle) override {
    if (events_.connection_closed) events_.connection_closed(id, connection, idle);
  }

 private:
  struct Outgoing {
    std::vector<uint8_t> bytes;
    std::vector<common::UniqueFd> fds;  // duplicates, owned until sent
    uint64_t connection_id = 0;  // for a hand-off
    bool certificate_answer = false;  // answers the outstanding certificate request
  };

  struct Route;
  static const Route* route_for(ipc::MessageType type);

  bool send_or_queue(std::vector<uint8_t> bytes, std::span<const int> fds, uint64_t connection_id,
                     bool certificate_answer = false);
  // A worker that breaks the protocol or its channel is ended.
  void end_worker(const char* event, const std::string& detail);
  void on_channel(int status, int events);
  void send_queued();
  // One message from the worker, decoded and handled by its route; throws
  // ProtocolViolation (or anything else a handler throws) to end the worker.
  // Once it has `exited`, only its reports are handled.
  void dispatch(std::span<const uint8_t> message, size_t fd_count, bool exited = false);
  void on_ready(std::span<const uint8_t> message);
  void on_failed(std::span<const uint8_t> message);
  void on_sandbox(std::span<const uint8_t> message);
  void on_tls_stats(std::span<const uint8_t> message);
  void on_certificate_request(std::span<const uint8_t> message);
  void on_seccomp_violation(std::span<const uint8_t> message);
  void on_replies(std::span<const uint8_t> message);
  void on_store_reconnect(std::span<const uint8_t> message);
  void on_modules_loaded(std::span<const uint8_t> message);
  void on_egress_connect(std::span<const uint8_t> message);
  void on_egress_lookup(std::span<const uint8_t> message);
  void watch(bool writable);
  void close_channel();
  // At the exit: what the worker sent before it, still unread.
  void read_last_words();

  uv_loop_t* loop_;
  std::string name_;
  std::string tenant_;
  Events events_;
  ChildProcess child_;
  common::UniqueFd channel_;
  common::UvHandle<uv_poll_t> poll_;
  std::deque<Outgoing> outbox_;
  size_t outbox_bytes_ = 0;
  ipc::MessageReader reader_;
  std::string seccomp_violation_;
  std::string ended_because_;  // why the supervisor ended it (for its exit description)
  bool sandbox_reported_ = false;   // worker_sandbox arrived (it must come first, once)
  bool ready_ = false;
  bool stopping_ = false;           // a stop was requested: channel EOF is expected
  bool failure_reported_ = false;   // worker_failed arrived: the worker is ending
  // A certificate request whose answer has not reached the channel yet. A
  // worker waits for the answer before asking again, so a request arriving
  // while this is set comes from one that does not read its answers.
  bool certificate_requested_ = false;
  common::OneShotTimer exit_grace_;  // kills a worker that closed its channel but does not exit
  common::OneShotTimer store_reconnect_;  // a store reconnection waiting for its turn
  uint64_t last_store_reconnect_ms_ = 0;
};

}  // namespace supervisor
