#include "worker/supervisor_link.h"

#include <poll.h>

#include <cerrno>

#include "common/log.h"
#include "worker/api_connect.h"
#include "worker/api_store.h"
#include "worker/api_tcp.h"
#include "worker/api_udp.h"
#include "worker/runtime.h"

namespace worker {

bool SupervisorLink::receive_init(ipc::WorkerInit& init, std::vector<common::UniqueFd>& fds, int timeout_ms,
                                  std::string& error) {
  pollfd waiting{channel_.get(), POLLIN, 0};
  int ready = ::poll(&waiting, 1, timeout_ms);
  if (ready <= 0) {
    error = ready == 0 ? "no init message from the supervisor" : "poll failed";
    return false;
  }
  int err = 0;
  ipc::ReceivedMessage received;
  if (ipc::receive_message(channel_.get(), received, &err) != ipc::IoResult::ok) {
    error = "cannot read the init message";
    return false;
  }
  if (!ipc::decode(received.bytes(), init)) {
    error = "malformed init message";
    return false;
  }
  fds = std::move(received.fds());
  return true;
}

void SupervisorLink::start(uv_loop_t* loop, Runtime& runtime) {
  runtime_ = &runtime;
  poll_.init(uv_poll_init, loop, channel_.get());
  poll_->data = this;
  update_poll();
}

void SupervisorLink::close() {
  poll_.reset();
  if (channel_ && !outbox_.empty()) {
    int err = 0;
    auto result = ipc::send_queued(channel_.get(), outbox_, kLastWordsTimeoutMs, &err);
    if (result == ipc::IoResult::would_block) {
      common::log::warn("supervisor-messages-unsent").kv("messages", outbox_.size()).kv("reason", "timed out");
    } else if (result != ipc::IoResult::ok) {
      common::log::warn("supervisor-messages-unsent").kv("messages", outbox_.size()).err(err);
    }
  }
  outbox_.clear();
  channel_.reset();
}

void SupervisorLink::update_poll() {
  if (!poll_) return;
  int wanted = UV_READABLE | (outbox_.empty() ? 0 : UV_WRITABLE);
  uv_poll_start(poll_.get(), wanted, [](uv_poll_t* handle, int status, int events) {
    if (handle->data) static_cast<SupervisorLink*>(handle->data)->on_events(status, events);
  });
}

void SupervisorLink::send(std::span<const uint8_t> message) {
  if (!channel_) return;
  if (outbox_.empty()) {
    int err = 0;
    auto result = ipc::send_message(channel_.get(), message, {}, &err);
    if (result == ipc::IoResult::ok) return;
    if (result != ipc::IoResult::would_block) {
      common::log::error("supervisor-channel-failed").err(err);
      return;
    }
  }
  outbox_.emplace_back(message.begin(), message.end());
  update_poll();
}

void SupervisorLink::on_events(int status, int events) {
  if (status < 0) {
    common::log::error("supervisor-channel-failed").kv("error", uv_strerror(status));
    runtime_->request_exit(1);
    return;
  }
  if (events & UV_WRITABLE) {
    auto result = ipc::send_queued(channel_.get(), outbox_, 0);
    // A channel that cannot take messages any more is the reading side's news.
    if (result != ipc::IoResult::ok && result != ipc::IoResult::would_block) outbox_.clear();
    update_poll();
  }
  if (events & UV_READABLE) {
    // Bounded, so a flood of datagrams cannot starve timers and connections.
    for (int i = 0; (i < 64 || reader_.pending()) && channel_; ++i) {
      int err = 0;
      auto result = reader_.next(channel_.get(), &err);
      if (result == ipc::IoResult::would_block) break;
      if (result == ipc::IoResult::error && err == EMSGSIZE) {
        // A truncated message (a hand-off arriving while this worker is out of
        // descriptors): that one connection is lost, the worker goes on.
        common::log::error("supervisor-message-truncated").kv("reason", "out of file descriptors?");
        continue;
      }
      if (result != ipc::IoResult::ok) {
        // The supervisor is gone: nothing may outlive it.
        common::log::warn("supervisor-gone").kv("reason", result == ipc::IoResult::closed ? "closed" : "error");
        runtime_->request_exit(1);
        return;
      }
      dispatch(reader_.bytes(), reader_.fds());
    }
  }
}

void SupervisorLink::dispatch(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  auto type = ipc::peek_type(message);
  if (!type) return;
  switch (*type) {
    case ipc::MessageType::connection: {
      ipc::ConnectionHandoff handoff;
      if (!ipc::decode(message, handoff) || fds.size() != 1) {
        common::log::error("malformed-supervisor-message").kv("type", "connection");
        return;
      }
      runtime_->tcp().adopt(std::move(fds[0]), handoff);
      return;
    }
    case ipc::MessageType::datagrams: {
      runtime_->udp().begin_batch();
      bool ok = ipc::for_each_datagram(message, ipc::MessageType::datagrams,
                                       [&](const common::SocketAddress& peer, std::span<const uint8_t> payload) {
                                         runtime_->udp().dispatch(peer, payload);
                                       });
      runtime_->udp().end_batch();
      if (!ok) common::log::error("malformed-supervisor-message").kv("type", "datagrams");
      return;
    }
    case ipc::MessageType::worker_stop: {
      ipc::WorkerStop stop;
      if (!ipc::decode(message, stop)) {
        common::log::error("malformed-supervisor-message").kv("type", "worker_stop");
        return;
      }
      runtime_->begin_stop(stop);
      return;
    }
    case ipc::MessageType::store_connections: {
      ipc::StoreConnections connections;
      if (!ipc::decode(message, connections) || fds.size() != 2) {
        common::log::error("malformed-supervisor-message").kv("type", "store_connections");
        return;
      }
      runtime_->store().reattach(std::move(fds[0]), std::move(fds[1]));
      return;
    }
    case ipc::MessageType::tls_certificate: {
      ipc::TlsCertificate certificate;
      if (!ipc::decode(message, certificate)) {
        common::log::error("malformed-supervisor-message").kv("type", "tls_certificate");
        return;
      }
      runtime_->tcp().on_certificate(certificate);
      return;
    }
    case ipc::MessageType::tls_update: {
      ipc::TlsUpdate update;
      std::string error;
      if (!ipc::decode(message, update)) {
        common::log::error("malformed-supervisor-message").kv("type", "tls_update");
      } else if (!runtime_->tcp().set_tls(update.tls_json, error)) {
        // The supervisor checked the material; keep serving with what works.
        common::log::error("tls-update-failed").kv("reason", error);
      }
      return;
    }
    case ipc::MessageType::egress_connected: {
      ipc::EgressConnected answer;
      if (!ipc::decode(message, answer) || fds.size() > 1 || (!answer.code.empty() && !fds.empty())) {
        common::log::error("malformed-supervisor-message").kv("type", "egress_connected");
        return;
      }
      runtime_->egress().on_connected(answer, fds);
      return;
    }
    case ipc::MessageType::egress_lookup_result: {
      ipc::EgressLookupResult answer;
      if (!ipc::decode(message, answer)) {
        common::log::error("malformed-supervisor-message").kv("type", "egress_lookup_result");
        return;
      }
      runtime_->egress().on_lookup_result(answer);
      return;
    }
    default:
      common::log::error("malformed-supervisor-message").kv("type", static_cast<int>(*type));
  }
}

}  // namespace worker
