#include "supervisor/worker_process.h"

#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>

#include <memory>

#include "common/log.h"
#include "common/process.h"
#include "policy/json_fields.h"
#include "sandbox/violation_report.h"

namespace supervisor {

bool WorkerProcess::start(const std::string& executable, ipc::WorkerInit init, common::UniqueFd store_command,
                          common::UniqueFd store_subscription, std::string& error) {
  common::UniqueFd ours;
  common::UniqueFd theirs;
  if (!ipc::make_channel_pair(ours, theirs)) {
    error = "cannot create the worker channel: " + common::errno_text(errno);
    return false;
  }
  SpawnOptions options{executable, {"--channel-fd", "3"}, {theirs.get()}, "worker:" + name_, init.sandbox};
  options.default_slice = true;  // handler code runs here
  int rc = child_.spawn(loop_, options, [this](int64_t status, int term_signal) {
    close_channel();
    exit_grace_.cancel();
    // A seccomp violation ends the worker from its SIGSYS handler.
    std::string description;
    if (!seccomp_violation_.empty()) {
      description = "killed by signal SIGSYS (seccomp: " + seccomp_violation_ + ")";
    } else if (term_signal == 0 && status == sandbox::kViolationExitStatus) {
      // The report did not get through (a full channel), the exit status did.
      description = "killed by signal SIGSYS (seccomp: system call not reported)";
    } else if (const char* meaning = term_signal == 0 && !failure_reported_
                                         ? ipc::worker_exit_meaning(static_cast<int>(status))
                                         : nullptr) {
      // Ended itself without getting its report out: the status says why.
      description = meaning;
    } else {
      description = describe_exit(status, term_signal);
    }
    if (events_.exited) events_.exited(description);
  });
  if (rc != 0) {
    error = "cannot start " + executable + ": " + common::errno_text(-rc);
    return false;
  }
  theirs.reset();
  channel_ = std::move(ours);
  if (int prc = poll_.init(uv_poll_init, loop_, channel_.get()); prc != 0) {
    error = std::string("cannot watch the worker channel: ") + uv_strerror(prc);
    kill();
    return false;
  }
  poll_->data = this;
  watch(false);
  // The init message is the first thing on the channel, so the buffer has room.
  auto message = ipc::encode(init);
  int fds[] = {store_command.get(), store_subscription.get()};
  int err = 0;
  if (ipc::send_message(channel_.get(), message, fds, &err) != ipc::IoResult::ok) {
    error = "cannot send the init message: " + common::errno_text(err);
    kill();
    return false;
  }
  return true;
}

void WorkerProcess::watch(bool writable) {
  if (!poll_) return;
  uv_poll_start(poll_.get(), UV_READABLE | (writable ? UV_WRITABLE : 0), [](uv_poll_t* handle, int status, int events) {
    if (handle->data) static_cast<WorkerProcess*>(handle->data)->on_channel(status, events);
  });
}

bool WorkerProcess::send_or_queue(std::vector<uint8_t> bytes, std::span<const int> fds, uint64_t connection_id) {
  if (!channel_) return false;
  if (outbox_.empty()) {
    auto result = ipc::send_message(channel_.get(), bytes, fds);
    if (result == ipc::IoResult::ok) return true;
    if (result != ipc::IoResult::would_block) return false;
  }
  Outgoing outgoing{std::move(bytes), {}, connection_id};
  for (int fd : fds) {
    outgoing.fds.emplace_back(fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!outgoing.fds.back()) return false;
  }
  outbox_.push_back(std::move(outgoing));
  watch(true);
  return true;
}

bool WorkerProcess::hand_off(const ipc::ConnectionHandoff& handoff, int fd) {
  int fds[] = {fd};
  return send_or_queue(ipc::encode(handoff), fds, handoff.id);
}

bool WorkerProcess::send_datagrams(std::span<const uint8_t> batch) {
  // Datagrams are never queued: UDP may drop, and a slow worker must not make
  // the supervisor buffer without bound.
  if (!channel_ || !outbox_.empty()) return false;
  return ipc::send_message(channel_.get(), batch) == ipc::IoResult::ok;
}

void WorkerProcess::stop(const ipc::WorkerStop& stop, uint64_t kill_after_ms) {
  stopping_ = true;
  if (!send_or_queue(ipc::encode(stop), {}, 0)) {
    kill();
    return;
  }
  exit_grace_.start(loop_, kill_after_ms, [this] {
    common::log::warn("worker-stop-timeout").kv("handler", name_).kv("pid", pid());
    kill();
  });
}

bool WorkerProcess::send_store_connections(common::UniqueFd command, common::UniqueFd subscription) {
  int fds[] = {command.get(), subscription.get()};
  return send_or_queue(ipc::encode(ipc::StoreConnections{}), fds, 0);
}

bool WorkerProcess::send_tls_certificate(const nlohmann::json& answer) {
  return send_or_queue(ipc::encode(ipc::TlsCertificate{answer.dump()}), {}, 0);
}

bool WorkerProcess::send_tls_update(const std::string& tls_json) {
  return send_or_queue(ipc::encode(ipc::TlsUpdate{tls_json}), {}, 0);
}

void WorkerProcess::kill() { child_.signal(SIGKILL); }

void WorkerProcess::end_worker(const char* event, const std::string& detail) {
  common::log::error(event).kv("handler", name_).kv("pid", pid()).kv("reason", detail);
  close_channel();
  kill();
}

void WorkerProcess::close_channel() {
  poll_.reset();
  channel_.reset();
  outbox_.clear();
}

void WorkerProcess::on_channel(int status, int events) {
  if (status < 0) return end_worker("worker-channel-failed", uv_strerror(status));
  if (events & UV_WRITABLE) {
    while (!outbox_.empty()) {
      Outgoing& next = outbox_.front();
      std::vector<int> fds;
      for (const auto& fd : next.fds) fds.push_back(fd.get());
      int err = 0;
      auto result = ipc::send_message(channel_.get(), next.bytes, fds, &err);
      if (result == ipc::IoResult::would_block) break;
      uint64_t failed_connection = result == ipc::IoResult::ok ? 0 : next.connection_id;
      outbox_.pop_front();
      if (failed_connection != 0) {
        common::log::error("handoff-failed").kv("handler", name_).kv("conn", failed_connection).err(err);
        if (events_.handoff_failed) events_.handoff_failed(failed_connection);
        if (!channel_) return;
      }
    }
    watch(!outbox_.empty());
    if (outbox_.empty() && events_.drained) events_.drained();
    if (!channel_) return;
  }
  if (!(events & UV_READABLE)) return;
  for (int i = 0; (i < 64 || reader_.pending()) && channel_; ++i) {
    int err = 0;
    auto result = reader_.next(channel_.get(), &err);
    if (result == ipc::IoResult::would_block) return;
    if (result == ipc::IoResult::closed && (stopping_ || failure_reported_)) {
      // A worker asked to stop, or one that reported why it is giving up,
      // closes its channel on its way out; its exit status is what matters,
      // so it gets a moment to exit by itself.
      close_channel();
      // Asked to stop, the stop deadline already runs.
      if (!exit_grace_.pending()) exit_grace_.start(loop_, kExitGraceMs, [this] { kill(); });
      return;
    }
    if (result != ipc::IoResult::ok) {
      // End of the channel (or an empty message, which reads the same): a
      // worker without its channel cannot serve, so it is ended; its exit
      // callback reports the status.
      return end_worker("worker-channel-closed",
                        result == ipc::IoResult::closed ? "the worker closed its channel" : common::errno_text(err));
    }
    auto type = ipc::peek_type(reader_.bytes());
    if (type == ipc::MessageType::worker_ready) {
      ipc::WorkerReady ready;
      if (!ipc::decode(reader_.bytes(), ready)) return end_worker("worker-protocol-violation", "malformed worker_ready");
      // Confinement is reported (and checked) before anything else happens.
      if (!sandbox_reported_ || ready_) return end_worker("worker-protocol-violation", "worker_ready out of order");
      ready_ = true;
      if (events_.ready) events_.ready(ready);
    } else if (type == ipc::MessageType::worker_failed) {
      ipc::WorkerFailed failed;
      if (!ipc::decode(reader_.bytes(), failed)) failed = {"the worker failed (malformed report)", {}};
      failure_reported_ = true;
      if (events_.failed) events_.failed(failed);
    } else if (type == ipc::MessageType::worker_sandbox) {
      ipc::WorkerSandbox report;
      if (!ipc::decode(reader_.bytes(), report)) return end_worker("worker-protocol-violation", "malformed sandbox report");
      // Sent once, before any handler code runs; a later one is not believed.
      if (sandbox_reported_) return end_worker("worker-protocol-violation", "a second sandbox report");
      sandbox_reported_ = true;
      if (events_.sandbox) events_.sandbox(report.report_json);
    } else if (type == ipc::MessageType::tls_stats) {
      ipc::TlsStats stats;
      if (!ipc::decode(reader_.bytes(), stats)) return end_worker("worker-protocol-violation", "malformed tls_stats");
      try {
        auto delta = policy::parse_json_object(stats.stats_json);
        if (events_.tls_stats) events_.tls_stats(delta);
      } catch (const policy::JsonFieldError& e) {
        return end_worker("worker-protocol-violation", std::string("malformed tls_stats: ") + e.what());
      }
    } else if (type == ipc::MessageType::tls_certificate_request) {
      ipc::TlsCertificateRequest request;
      nlohmann::json parsed;
      try {
        if (!ipc::decode(reader_.bytes(), request)) throw policy::JsonFieldError("/", "undecodable");
        parsed = policy::parse_json_object(request.json);
      } catch (const policy::JsonFieldError& e) {
        return end_worker("worker-protocol-violation", std::string("malformed tls_certificate_request: ") + e.what());
      }
      if (events_.tls_certificate_request) events_.tls_certificate_request(parsed);
    } else if (type == ipc::MessageType::seccomp_violation) {
      // Sent by the worker's SIGSYS handler just before it dies.
      ipc::SeccompViolation violation;
      if (ipc::decode(reader_.bytes(), violation)) {
        std::unique_ptr<char, decltype(&free)> name(
            seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(violation.syscall_nr)), &free);
        seccomp_violation_ = name ? name.get() : "syscall " + std::to_string(violation.syscall_nr);
        common::log::error("seccomp-violation").kv("handler", name_).kv("pid", pid()).kv("syscall", seccomp_violation_);
      }
    } else if (type == ipc::MessageType::replies) {
      if (events_.replies && !events_.replies(reader_.bytes())) {
        return end_worker("worker-protocol-violation", "malformed replies batch");
      }
    } else {
      // A worker runs untrusted code: a message it should not send ends it.
      return end_worker("worker-protocol-violation",
                        "unexpected message type " + std::to_string(type ? static_cast<int>(*type) : -1));
    }
  }
}

}  // namespace supervisor
