#include "supervisor/worker_process.h"

#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/socket.h>

#include <memory>
#include <stdexcept>

#include "common/log.h"
#include "common/process.h"
#include "sandbox/violation_report.h"

namespace supervisor {

bool WorkerProcess::start(const std::string& executable, ipc::WorkerInit init, common::UniqueFd store_command,
                          common::UniqueFd store_subscription, std::string& error,
                          const sandbox::CgroupPlacement& cgroup) {
  common::UniqueFd ours;
  common::UniqueFd theirs;
  if (!ipc::make_channel_pair(ours, theirs)) {
    error = "cannot create the worker channel: " + common::errno_text(errno);
    return false;
  }
  SpawnOptions options{executable,
                       {"--channel-fd", "3"},
                       {theirs.get()},
                       "worker:" + (tenant_.empty() ? name_ : tenant_ + "/" + name_),
                       init.sandbox,
                       false,
                       cgroup};
  options.default_slice = true;  // handler code runs here
  int rc = child_.spawn(loop_, options, [this](int64_t status, int term_signal) {
    read_last_words();
    close_channel();
    exit_grace_.cancel();
    // A seccomp violation ends the worker from its SIGSYS handler.
    std::string description;
    if (!seccomp_violation_.empty()) {
      description = "killed by signal SIGSYS (seccomp: " + seccomp_violation_ + ")";
    } else if (!ended_because_.empty()) {
      description = "ended by the supervisor: " + ended_because_;
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

bool WorkerProcess::send_or_queue(std::vector<uint8_t> bytes, std::span<const int> fds, uint64_t connection_id,
                                  bool certificate_answer) {
  if (!channel_) return false;
  if (outbox_.empty()) {
    auto result = ipc::send_message(channel_.get(), bytes, fds);
    if (result == ipc::IoResult::ok) {
      if (certificate_answer) certificate_requested_ = false;
      return true;
    }
    if (result != ipc::IoResult::would_block) return false;
  }
  if (outbox_bytes_ + bytes.size() + kQueuedMessageCost > kMaxQueuedBytes) {
    ended_because_ = "it stopped reading its channel";
    end_worker("worker-queue-overflow", "more than " + std::to_string(kMaxQueuedBytes) +
                                            " bytes wait for a worker that does not read its channel");
    return false;
  }
  Outgoing outgoing{std::move(bytes), {}, connection_id, certificate_answer};
  for (int fd : fds) {
    outgoing.fds.emplace_back(fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!outgoing.fds.back()) return false;
  }
  outbox_bytes_ += outgoing.bytes.size() + kQueuedMessageCost;
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
    common::log::warn("worker-stop-timeout").kv("handler", name_).kv_nonempty("tenant", tenant_).kv("pid", pid());
    kill();
  });
}

bool WorkerProcess::send_store_connections(common::UniqueFd command, common::UniqueFd subscription) {
  int fds[] = {command.get(), subscription.get()};
  return send_or_queue(ipc::encode(ipc::StoreConnections{}), fds, 0);
}

bool WorkerProcess::send_tls_certificate(const ipc::TlsCertificate& answer) {
  return send_or_queue(ipc::encode(answer), {}, 0, true);
}

bool WorkerProcess::send_egress_connected(const ipc::EgressConnected& answer, int fd) {
  if (fd < 0) return send_or_queue(ipc::encode(answer), {}, 0);
  int fds[] = {fd};
  return send_or_queue(ipc::encode(answer), fds, 0);
}

bool WorkerProcess::send_egress_lookup_result(const ipc::EgressLookupResult& answer) {
  return send_or_queue(ipc::encode(answer), {}, 0);
}

bool WorkerProcess::send_tls_update(const std::string& tls_json) {
  return send_or_queue(ipc::encode(ipc::TlsUpdate{tls_json}), {}, 0);
}

void WorkerProcess::kill() { child_.signal(SIGKILL); }

void WorkerProcess::end_worker(const char* event, const std::string& detail) {
  common::log::error(event).kv("handler", name_).kv_nonempty("tenant", tenant_).kv("pid", pid()).kv("reason", detail);
  close_channel();
  kill();
}

void WorkerProcess::read_last_words() {
  // A busy loop can see the exit before it has read the channel at all (the
  // pidfd's watcher is registered before the channel's; the sanitizer CI run
  // caught it): what the worker sent before it ended is read now, in order,
  // as if the loop had read it first. Reports are taken (why it failed, its
  // readiness, replies it sent); requests are not, with no one left to answer.
  // Bounded, since a descriptor the worker passed on could keep the channel's
  // peer alive.
  for (int i = 0; i < 256 && channel_; ++i) {
    if (reader_.next(channel_.get()) != ipc::IoResult::ok) return;
    try {
      dispatch(reader_.bytes(), reader_.fds().size(), true);
    } catch (const std::exception& e) {
      common::log::error("worker-protocol-violation").kv("handler", name_).kv_nonempty("tenant", tenant_).kv("reason", e.what());
      return;
    }
  }
}

void WorkerProcess::close_channel() {
  poll_.reset();
  channel_.reset();
  outbox_.clear();
  outbox_bytes_ = 0;
}

namespace {

// A worker's message the supervisor will not act on: the worker is ended.
class ProtocolViolation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename Message>
Message decode_or_throw(std::span<const uint8_t> bytes, const char* what) {
  Message message;
  if (!ipc::decode(bytes, message)) throw ProtocolViolation(std::string("malformed ") + what);
  return message;
}

}  // namespace

// Every message type a worker may send, and what handles it. Anything else
// (a supervisor-bound type it has no business sending, an unknown number)
// ends the worker.
struct WorkerProcess::Route {
  ipc::MessageType type;
  void (WorkerProcess::*handle)(std::span<const uint8_t> message);
  // A report still counts once the worker has exited; a request, which asks
  // the supervisor to act and answer, does not.
  bool report;
};

const WorkerProcess::Route* WorkerProcess::route_for(ipc::MessageType type) {
  static constexpr Route kRoutes[] = {
      {ipc::MessageType::worker_sandbox, &WorkerProcess::on_sandbox, true},
      {ipc::MessageType::worker_ready, &WorkerProcess::on_ready, true},
      {ipc::MessageType::worker_failed, &WorkerProcess::on_failed, true},
      {ipc::MessageType::replies, &WorkerProcess::on_replies, true},
      {ipc::MessageType::tls_stats, &WorkerProcess::on_tls_stats, true},
      {ipc::MessageType::tls_certificate_request, &WorkerProcess::on_certificate_request, false},
      {ipc::MessageType::seccomp_violation, &WorkerProcess::on_seccomp_violation, true},
      {ipc::MessageType::store_reconnect, &WorkerProcess::on_store_reconnect, false},
      {ipc::MessageType::modules_loaded, &WorkerProcess::on_modules_loaded, true},
      {ipc::MessageType::egress_connect, &WorkerProcess::on_egress_connect, false},
      {ipc::MessageType::egress_lookup, &WorkerProcess::on_egress_lookup, false},
  };
  for (const auto& route : kRoutes) {
    if (route.type == type) return &route;
  }
  return nullptr;
}

void WorkerProcess::dispatch(std::span<const uint8_t> message, size_t fd_count, bool exited) {
  auto type = ipc::peek_type(message);
  const Route* route = type ? route_for(*type) : nullptr;
  if (route == nullptr) {
    throw ProtocolViolation("unexpected message type " + std::to_string(type ? static_cast<int>(*type) : -1));
  }
  // Descriptors only ever go to a worker; one coming back is not believed.
  if (fd_count != 0) throw ProtocolViolation("a message carrying file descriptors");
  // Confinement is reported (and checked) before anything else happens.
  if (!sandbox_reported_ && *type != ipc::MessageType::worker_sandbox && *type != ipc::MessageType::seccomp_violation) {
    throw ProtocolViolation("a message before the sandbox report");
  }
  if (exited && !route->report) return;
  (this->*route->handle)(message);
}

void WorkerProcess::on_sandbox(std::span<const uint8_t> message) {
  auto report = decode_or_throw<ipc::WorkerSandbox>(message, "sandbox report");
  // Sent once, before any handler code runs; a later one is not believed.
  if (sandbox_reported_) throw ProtocolViolation("a second sandbox report");
  sandbox_reported_ = true;
  if (events_.sandbox) events_.sandbox(report);
}

void WorkerProcess::on_ready(std::span<const uint8_t> message) {
  auto ready = decode_or_throw<ipc::WorkerReady>(message, "worker_ready");
  if (ready_) throw ProtocolViolation("worker_ready out of order");
  ready_ = true;
  if (events_.ready) events_.ready(ready);
}

void WorkerProcess::on_failed(std::span<const uint8_t> message) {
  ipc::WorkerFailed failed;
  if (!ipc::decode(message, failed)) failed = {"the worker failed (malformed report)", {}};
  failure_reported_ = true;
  if (events_.failed) events_.failed(failed);
}

void WorkerProcess::on_replies(std::span<const uint8_t> message) {
  if (events_.replies && !events_.replies(message)) throw ProtocolViolation("malformed replies batch");
}

void WorkerProcess::on_tls_stats(std::span<const uint8_t> message) {
  auto stats = decode_or_throw<ipc::TlsStats>(message, "tls_stats");
  if (events_.tls_stats) events_.tls_stats(stats);
}

void WorkerProcess::on_certificate_request(std::span<const uint8_t> message) {
  auto request = decode_or_throw<ipc::TlsCertificateRequest>(message, "tls_certificate_request");
  // One at a time: each request costs the supervisor a signature and an
  // answer in the queue, so a worker cannot make it queue without bound.
  if (certificate_requested_) throw ProtocolViolation("a second certificate request before the first was answered");
  certificate_requested_ = true;
  if (events_.tls_certificate_request) {
    events_.tls_certificate_request(request);
  } else {
    send_tls_certificate(ipc::TlsCertificate{request.name, "", "this handler has no on-demand certificates", true});
  }
}

void WorkerProcess::on_store_reconnect(std::span<const uint8_t> message) {
  decode_or_throw<ipc::StoreReconnect>(message, "store_reconnect");
  // Each answer costs two connections to the store: however often a worker
  // asks, it is served once per interval (asks meanwhile are one ask).
  if (store_reconnect_.pending() || !events_.store_reconnect) return;
  uint64_t now = uv_now(loop_);
  uint64_t due = last_store_reconnect_ms_ == 0 ? now : last_store_reconnect_ms_ + kStoreReconnectIntervalMs;
  store_reconnect_.start(loop_, due > now ? due - now : 0, [this] {
    last_store_reconnect_ms_ = uv_now(loop_);
    events_.store_reconnect();
  });
}

void WorkerProcess::on_modules_loaded(std::span<const uint8_t> message) {
  auto loaded = decode_or_throw<ipc::ModulesLoaded>(message, "modules_loaded");
  if (!ready_) throw ProtocolViolation("modules_loaded before worker_ready");
  if (events_.modules_loaded) events_.modules_loaded(loaded);
}

void WorkerProcess::on_egress_connect(std::span<const uint8_t> message) {
  auto request = decode_or_throw<ipc::EgressConnect>(message, "egress_connect");
  if (events_.egress_connect) {
    events_.egress_connect(request);
  } else {
    send_egress_connected(ipc::EgressConnected{request.request_id, "EACCES", {}}, -1);
  }
}

void WorkerProcess::on_egress_lookup(std::span<const uint8_t> message) {
  auto request = decode_or_throw<ipc::EgressLookup>(message, "egress_lookup");
  if (events_.egress_lookup) {
    events_.egress_lookup(request);
  } else {
    send_egress_lookup_result(ipc::EgressLookupResult{request.request_id, "ENOTFOUND", {}});
  }
}

void WorkerProcess::on_seccomp_violation(std::span<const uint8_t> message) {
  // Sent by the worker's SIGSYS handler just before it dies; once.
  ipc::SeccompViolation violation;
  if (!ipc::decode(message, violation) || !seccomp_violation_.empty()) return;
  std::unique_ptr<char, decltype(&free)> name(
      seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(violation.syscall_nr)), &free);
  seccomp_violation_ = name ? name.get() : "syscall " + std::to_string(violation.syscall_nr);
  common::log::error("seccomp-violation").kv("handler", name_).kv_nonempty("tenant", tenant_).kv("pid", pid()).kv("syscall", seccomp_violation_);
}

void WorkerProcess::send_queued() {
  while (!outbox_.empty()) {
    Outgoing& next = outbox_.front();
    std::vector<int> fds;
    for (const auto& fd : next.fds) fds.push_back(fd.get());
    int err = 0;
    auto result = ipc::send_message(channel_.get(), next.bytes, fds, &err);
    if (result == ipc::IoResult::would_block) break;
    uint64_t failed_connection = result == ipc::IoResult::ok ? 0 : next.connection_id;
    if (next.certificate_answer) certificate_requested_ = false;
    outbox_bytes_ -= next.bytes.size() + kQueuedMessageCost;
    outbox_.pop_front();
    if (failed_connection != 0) {
      common::log::error("handoff-failed").kv("handler", name_).kv_nonempty("tenant", tenant_).kv("conn", failed_connection).err(err);
      if (events_.handoff_failed) events_.handoff_failed(failed_connection);
      if (!channel_) return;
    }
  }
  watch(!outbox_.empty());
  if (outbox_.empty() && events_.drained) events_.drained();
}

void WorkerProcess::on_channel(int status, int events) {
  if (status < 0) {
    // libuv reports any socket error (POLLERR) as EBADF; the socket knows
    // which it was (a worker that exits with messages unread leaves
    // ECONNRESET).
    int error = 0;
    socklen_t length = sizeof error;
    if (status == UV_EBADF && getsockopt(channel_.get(), SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error != 0) {
      return end_worker("worker-channel-failed", common::errno_text(error));
    }
    return end_worker("worker-channel-failed", uv_strerror(status));
  }
  if (events & UV_WRITABLE) {
    send_queued();
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
    // Whatever goes wrong with one worker's message ends that worker, never
    // the supervisor that serves every other one.
    try {
      dispatch(reader_.bytes(), reader_.fds().size());
    } catch (const ProtocolViolation& violation) {
      ended_because_ = std::string("protocol violation: ") + violation.what();
      return end_worker("worker-protocol-violation", violation.what());
    } catch (const std::exception& e) {
      ended_because_ = std::string("its message could not be handled: ") + e.what();
      return end_worker("worker-message-failed", e.what());
    }
  }
}

}  // namespace supervisor
