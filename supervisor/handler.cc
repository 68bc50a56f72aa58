#include "supervisor/handler.h"

#include "common/log.h"
#include "policy/handler_filename.h"
#include "policy/json_fields.h"
#include "supervisor/broker.h"
#include "supervisor/confinement_check.h"

namespace supervisor {
namespace {

// How long past open_ms a worker may take to report before it is killed
// (process start-up and engine boot come on top of open(ctx)).
constexpr uint64_t kReadySlackMs = 5000;
constexpr uint64_t kStopSlackMs = 2000;
// A worker that ran this long without crashing resets the crash count.
constexpr uint64_t kStableRunMs = 60000;
constexpr uint64_t kFirstRestartDelayMs = 250;
constexpr uint64_t kMaxRestartDelayMs = 30000;

}  // namespace

std::string_view state_name(HandlerState state) {
  switch (state) {
    case HandlerState::starting: return "starting";
    case HandlerState::active: return "active";
    case HandlerState::refused: return "refused";
    case HandlerState::failed: return "failed";
    case HandlerState::draining: return "draining";
    case HandlerState::stopped: return "stopped";
  }
  return "failed";
}

Handler::Handler(Broker& broker, HandlerFile file) : broker_(broker), file_(std::move(file)) {}

Handler::~Handler() { broker_.tracker().close_all_of(this); }

void Handler::refuse(const std::string& holder) {
  state_ = HandlerState::refused;
  held_by_ = holder;
  reason_ = std::string(policy::transport_name(file_.id.transport)) + " port " + std::to_string(file_.id.port) +
            " is already claimed by " + holder;
  common::log::warn("handler-refused").kv("handler", file_.id.name).kv("file", file_.file).kv("held_by", holder);
}

void Handler::fail(const std::string& reason) {
  bool was_starting = state_ == HandlerState::starting;
  state_ = HandlerState::failed;
  reason_ = reason;
  deadline_.cancel();
  restart_timer_.cancel();
  tcp_.reset();
  udp_.reset();
  common::log::error("handler-failed").kv("handler", file_.id.name).kv("file", file_.file).kv("reason", reason);
  if (worker_ && worker_->running()) worker_->kill();
  broker_.tracker().close_all_of(this);
  if (was_starting) broker_.handler_settled();
}

void Handler::start() {
  const auto& config = broker_.options().config;
  std::string error;
  // Fail closed: a manifest that does not parse means no port at all.
  if (!file_.manifest_error.empty()) return fail("invalid manifest " + file_.manifest_error);
  admission_ = std::make_unique<Admission>(
      policy::effective_policy(file_.manifest, file_.id.transport, config.screening), config.screening);
  // The port is bound first, so a taken port fails the handler before any
  // code runs; the kernel queues connections until the worker is ready, and
  // keeps queueing them while a crashed worker restarts.
  if (file_.id.transport == policy::Transport::tcp) {
    tcp_ = std::make_unique<TcpListener>(broker_.loop(), file_.id.port);
    if (!tcp_->open(error)) return fail(error);
  } else {
    udp_ = std::make_unique<UdpEndpoint>(broker_.loop(), file_.id.port);
    if (!udp_->open(error)) return fail(error);
  }
  spawn_worker();
}

void Handler::spawn_worker() {
  const auto& config = broker_.options().config;
  std::string error;
  common::UniqueFd store_command;
  common::UniqueFd store_subscription;
  if (!broker_.store().connect(store_command, error) || !broker_.store().connect(store_subscription, error)) {
    return fail(error);
  }
  last_reason_.clear();
  sandbox_ = nullptr;
  worker_ = std::make_unique<WorkerProcess>(
      broker_.loop(), file_.id.name,
      WorkerProcess::Events{
          .ready = [this](const std::string& access_json) { on_ready(access_json); },
          .failed = [this](const std::string& reason) {
            if (state_ == HandlerState::starting && consecutive_crashes_ == 0) {
              fail(reason);
            } else {
              last_reason_ = reason;  // it is ending; on_exit reports why
            }
          },
          .replies = [this](std::span<const uint8_t> batch) { return on_replies(batch); },
          .exited = [this](const std::string& description) { on_exit(description); },
          // The backlog emptied: take connections from the listen queue again.
          .drained = [this] {
            if (tcp_ && state_ == HandlerState::active) tcp_->resume();
          },
          .handoff_failed = [this](uint64_t id) { broker_.tracker().close(id); },
          .sandbox = [this](const std::string& report) { on_sandbox_report(report); },
      });
  const auto& worker = config.worker;
  ipc::WorkerInit init{
      .handler_name = file_.id.name,
      .module_file = file_.file,
      .handlers_dir = config.handlers_dir,
      .transport = std::string(policy::transport_name(file_.id.transport)),
      .port = file_.id.port,
      .log_level = config.log_level,
      .open_timeout_ms = config.open_timeout_ms,
      .sandbox = worker.sandbox,
      .uid = static_cast<uint32_t>(broker_.worker_uid()),
      .gid = static_cast<uint32_t>(broker_.worker_gid()),
      .outer_uid = static_cast<uint32_t>(getuid()),
      .outer_gid = static_cast<uint32_t>(getgid()),
      .open_files = worker.open_files,
      .processes = worker.processes,
      .address_space_bytes = worker.address_space_mb << 20,
      .heap_bytes = worker.heap_mb << 20,
      .memory_bytes = worker.memory_mb << 20,
      .cpu_limit_ms = worker.cpu_limit_ms,
  };
  if (!worker_->start(broker_.worker_executable(), init, std::move(store_command), std::move(store_subscription),
                      error)) {
    return fail(error);
  }
  common::log::info("worker-started").kv("handler", file_.id.name).kv("pid", worker_->pid());
  deadline_.start(broker_.loop(), config.open_timeout_ms + kReadySlackMs, [this, ms = config.open_timeout_ms + kReadySlackMs] {
    if (state_ == HandlerState::starting) fail("the worker did not report ready within " + std::to_string(ms) + " ms");
  });
}

void Handler::on_sandbox_report(const std::string& report) {
  try {
    // Depth-limited: the report comes from a process about to run untrusted code.
    sandbox_ = policy::parse_json_object(report);
  } catch (const policy::JsonFieldError& e) {
    sandbox_ = nullptr;
    return fail(std::string("malformed sandbox report: ") + e.what());
  }
  // What the kernel shows outranks what the worker says.
  const auto& config = broker_.options().config;
  std::string mismatch = check_confinement(
      worker_->pid(), ExpectedConfinement{broker_.worker_uid(), broker_.worker_gid(), config.worker.sandbox});
  if (!mismatch.empty()) return fail("the worker is not confined as required: " + mismatch);
  if (config.worker.sandbox) sandbox_["namespaces"] = worker_->namespaces();
  const auto& missing = sandbox_.value("missing", nlohmann::json::array());
  if (missing.is_array() && !missing.empty()) {
    // Never confined less than asked without saying so, loudly.
    common::log::warn("sandbox-incomplete").kv("handler", file_.id.name).kv("missing", missing.dump());
  }
}

void Handler::reconnect_store() {
  if (!worker_ || !worker_->running()) return;
  std::string error;
  common::UniqueFd command;
  common::UniqueFd subscription;
  if (!broker_.store().connect(command, error) || !broker_.store().connect(subscription, error) ||
      !worker_->send_store_connections(std::move(command), std::move(subscription))) {
    // Its ctx.shared stays unavailable until the worker restarts.
    common::log::error("store-reconnect-failed").kv("handler", file_.id.name).kv("reason", error);
  }
}

void Handler::pause_traffic() {
  if (tcp_) tcp_->pause();
  if (udp_) udp_->pause();
}

void Handler::schedule_restart(const std::string& description) {
  const auto& worker = broker_.options().config.worker;
  uint64_t now = uv_now(broker_.loop());
  if (active_since_ms_ != 0 && now - active_since_ms_ >= kStableRunMs) consecutive_crashes_ = 0;
  // Counts again from the next time a worker becomes ready.
  active_since_ms_ = 0;
  // The ready deadline of the worker that died must not fire during the back-off.
  deadline_.cancel();
  ++consecutive_crashes_;
  if (consecutive_crashes_ > worker.max_restarts) {
    return fail("the worker crashed " + std::to_string(consecutive_crashes_) + " times in a row; last: " + description);
  }
  uint64_t delay = std::min(kMaxRestartDelayMs, kFirstRestartDelayMs << std::min(consecutive_crashes_ - 1, 16u));
  state_ = HandlerState::starting;
  reason_ = "restarting after: " + description + " (attempt " + std::to_string(consecutive_crashes_) + " of " +
            std::to_string(worker.max_restarts) + ")";
  common::log::warn("worker-restarting")
      .kv("handler", file_.id.name)
      .kv("reason", description)
      .kv("attempt", consecutive_crashes_)
      .kv("delay_ms", delay);
  restart_timer_.start(broker_.loop(), delay, [this] {
    ++restarts_;
    spawn_worker();
  });
}

void Handler::on_ready(const std::string& access_json) {
  if (state_ != HandlerState::starting) return;
  // From the manifest again: a restarted worker's `access` must not be
  // applied on top of its predecessor's (its connections are all gone).
  const auto& config = broker_.options().config;
  admission_ = std::make_unique<Admission>(
      policy::effective_policy(file_.manifest, file_.id.transport, config.screening), config.screening);
  access_warnings_.clear();
  if (!access_json.empty()) {
    // The module's `access` only tightens; an invalid one fails closed.
    access_exported_ = true;
    try {
      auto access = policy::parse_manifest(access_json, file_.id.transport, policy::ManifestKind::module_access);
      access_warnings_ = admission_->tighten(access);
    } catch (const policy::JsonFieldError& e) {
      return fail(std::string("invalid access export: ") + e.what());
    }
    for (const auto& warning : access_warnings_) {
      common::log::warn("access-not-applied").kv("handler", file_.id.name).kv("reason", warning);
    }
  }
  state_ = HandlerState::active;
  reason_.clear();
  deadline_.cancel();
  active_since_ms_ = uv_now(broker_.loop());
  if (tcp_) {
    tcp_->resume([this](common::UniqueFd fd, const common::SocketAddress& remote, const common::SocketAddress& local) {
      on_accept(std::move(fd), remote, local);
    });
  } else if (udp_) {
    udp_->resume(
        [this](const common::SocketAddress& peer) {
          auto refusal = admission_->admit_datagram(peer, uv_now(broker_.loop()));
          if (refusal == policy::Refusal::none) return true;
          ++counters_.datagrams_refused;
          admission_->count(refusal);
          return false;
        },
        [this](const ipc::DatagramBatch& batch) { on_datagrams(batch); });
  }
  common::log::info("handler-active")
      .kv("handler", file_.id.name)
      .kv("protocol", policy::transport_name(file_.id.transport))
      .kv("port", file_.id.port)
      .kv("pid", worker_->pid());
  broker_.handler_settled();
}

void Handler::on_exit(const std::string& exit_description) {
  // The worker's own account first, when it gave one.
  std::string description = last_reason_.empty() ? exit_description : last_reason_ + " (" + exit_description + ")";
  last_exit_ = description;
  switch (state_) {
    case HandlerState::draining:
      finish_stop();
      return;
    case HandlerState::starting:
      if (consecutive_crashes_ == 0) {
        // It never became ready: its code does not load; restarting would not help.
        fail("the worker " + description + " before it was ready");
      } else {
        broker_.tracker().close_all_of(this);
        schedule_restart(description);
      }
      return;
    case HandlerState::active:
      // Its connections die with it; the port stays bound (the kernel queues
      // new connections) while a new worker starts.
      common::log::error("worker-exited").kv("handler", file_.id.name).kv("reason", description);
      broker_.tracker().close_all_of(this);
      pause_traffic();
      schedule_restart(description);
      return;
    default:
      return;
  }
}

void Handler::refuse_connection(policy::Refusal reason, const common::SocketAddress& remote) {
  ++counters_.refused;
  admission_->count(reason);
  common::log::debug("connection-refused")
      .kv("handler", file_.id.name)
      .kv("peer", remote.to_string())
      .kv("reason", policy::refusal_name(reason));
}

void Handler::on_accept(common::UniqueFd fd, const common::SocketAddress& remote, const common::SocketAddress& local) {
  ++counters_.accepted;
  // Every return below without a hand-off closes `fd`: the connection is refused.
  if (state_ != HandlerState::active) {
    ++counters_.refused;
    return;
  }
  auto refusal = admission_->admit_connection(to_ip(remote), counters_.active, uv_now(broker_.loop()));
  if (refusal != policy::Refusal::none) return refuse_connection(refusal, remote);
  uint64_t id = broker_.next_connection_id();
  if (!worker_->hand_off(ipc::ConnectionHandoff{id, remote, local}, fd.get())) {
    ++counters_.refused;
    admission_->connection_closed(to_ip(remote));
    return;
  }
  if (broker_.tracker().add(id, TrackedConnection{std::move(fd), this, remote, admission_->idle_timeout_ms(), 0})) {
    ++counters_.active;
  } else {
    admission_->connection_closed(to_ip(remote));
  }
  // The worker is not keeping up: leave further connections in the kernel's
  // listen queue until the backlog drains.
  if (worker_->queued_handoffs() >= WorkerProcess::kMaxQueuedHandoffs) tcp_->pause();
}

void Handler::on_connection_closed(uint64_t, const TrackedConnection& connection, bool idle) {
  if (counters_.active > 0) --counters_.active;
  if (!admission_) return;
  admission_->connection_closed(to_ip(connection.remote));
  if (idle) admission_->count(policy::Refusal::idle_timeout);
}

void Handler::on_datagrams(const ipc::DatagramBatch& batch) {
  counters_.datagrams_received += batch.count();
  admission_->expire_sessions(uv_now(broker_.loop()));
  if (!worker_ || !worker_->send_datagrams(batch.bytes())) counters_.datagrams_dropped += batch.count();
}

bool Handler::on_replies(std::span<const uint8_t> batch) {
  if (!udp_) return true;
  // Replies go only to sources that sent within the session window, so a
  // worker cannot use the handler's port to reach anyone else.
  uint64_t now = uv_now(broker_.loop());
  auto result = udp_->send_replies(
      batch, [&](const common::SocketAddress& peer) { return admission_->may_reply_to(peer, now); });
  counters_.replies_sent += result.sent;
  counters_.replies_failed += result.failed;
  counters_.replies_refused += result.refused;
  return !result.malformed;
}

void Handler::stop(std::function<void()> done) {
  restart_timer_.cancel();  // a worker waiting to restart stays stopped
  if (!worker_ || !worker_->running() || state_ == HandlerState::refused || state_ == HandlerState::failed) {
    if (state_ == HandlerState::active || state_ == HandlerState::starting) state_ = HandlerState::stopped;
    tcp_.reset();
    udp_.reset();
    broker_.tracker().close_all_of(this);
    done();
    return;
  }
  on_stopped_ = std::move(done);
  bool was_starting = state_ == HandlerState::starting;
  state_ = HandlerState::draining;
  if (was_starting) broker_.handler_settled();
  // No new connections from here on; datagrams stop too, but the socket stays
  // for replies sent while close(ctx) runs.
  tcp_.reset();
  if (udp_) udp_->pause();
  const auto& config = broker_.options().config;
  worker_->stop(ipc::WorkerStop{config.close_timeout_ms, config.drain_timeout_ms});
  deadline_.start(broker_.loop(), uint64_t{config.close_timeout_ms} + config.drain_timeout_ms + kStopSlackMs, [this] {
    common::log::warn("worker-stop-timeout").kv("handler", file_.id.name).kv("pid", worker_->pid());
    worker_->kill();
  });
}

void Handler::finish_stop() {
  deadline_.cancel();
  udp_.reset();
  broker_.tracker().close_all_of(this);
  state_ = HandlerState::stopped;
  common::log::info("handler-stopped").kv("handler", file_.id.name).kv("worker", last_exit_);
  if (on_stopped_) std::exchange(on_stopped_, nullptr)();
}

nlohmann::json Handler::status() const {
  nlohmann::json worker = {
      {"pid", worker_ && worker_->running() ? nlohmann::json(worker_->pid()) : nlohmann::json(nullptr)},
      {"restarts", restarts_},
      {"last_exit", last_exit_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_exit_)},
      {"sandbox", sandbox_},
  };
  nlohmann::json status = {
      {"file", file_.file},
      {"name", file_.id.name},
      {"protocol", policy::transport_name(file_.id.transport)},
      {"port", file_.id.port},
      {"state", state_name(state_)},
      {"reason", reason_.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason_)},
      {"worker", worker},
      {"connections", {{"active", counters_.active}, {"accepted", counters_.accepted}, {"refused", counters_.refused}}},
  };
  if (!held_by_.empty()) status["held_by"] = held_by_;
  if (file_.id.transport == policy::Transport::udp) {
    status["datagrams"] = {{"received", counters_.datagrams_received},
                           {"refused", counters_.datagrams_refused},
                           {"dropped", counters_.datagrams_dropped},
                           {"replied", counters_.replies_sent},
                           {"reply_failed", counters_.replies_failed},
                           {"reply_refused", counters_.replies_refused}};
  }
  status["manifest"] = file_.manifest ? nlohmann::json(file_.manifest_file) : nlohmann::json(nullptr);
  if (admission_) {
    status["policy"] = admission_->policy_status();
    status["refused_by"] = admission_->refused_status();
  }
  status["access"] = {{"exported", access_exported_}, {"warnings", access_warnings_}};
  return status;
}

std::optional<FirewallPort> Handler::firewall_port() const {
  if (state_ != HandlerState::starting && state_ != HandlerState::active) return std::nullopt;
  if (!file_.manifest_error.empty()) return std::nullopt;
  FirewallPort port{file_.id.transport, file_.id.port, {}, false, {}};
  if (file_.manifest) {
    port.has_allow = file_.manifest->allow.has_value();
    if (port.has_allow) port.allow = *file_.manifest->allow;
    port.deny = file_.manifest->deny;
  }
  return port;
}

}  // namespace supervisor
