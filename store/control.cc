#include "store/control.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <string>

#include "common/log.h"
#include "common/process.h"
#include "ipc/messages.h"
#include "policy/tenant_config.h"
#include "store/inherited_socket.h"

namespace store {
namespace {

namespace log = common::log;

// A name fit for a log line, whatever the message held.
std::string printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, ipc::kMaxStoreScopeNameBytes)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

void refuse(std::string_view message_type, std::string_view reason, std::string_view scope = {}) {
  log::warn("store-control-refused").kv("message", message_type).kv_nonempty("scope", printable(scope)).kv("reason", reason);
}

}  // namespace

std::optional<std::string> check_control_socket(int fd) { return check_socket_type(fd, SOCK_SEQPACKET, "SOCK_SEQPACKET"); }

bool KeyspaceScopes::has_scope(std::string_view name) const { return keyspace_.scope(name) != nullptr; }

void KeyspaceScopes::set_scope(std::string_view name, size_t max_bytes, log::Line& line) {
  keyspace_.set_scope(name, max_bytes);
  const ScopeUsage* usage = keyspace_.scope(name);
  line.kv("keys", usage->keys).kv("used_bytes", usage->charged_bytes);
}

void KeyspaceScopes::remove_scope(std::string_view name, log::Line& line) {
  line.kv("keys_kept", keyspace_.scope(name)->keys);
  keyspace_.remove_scope(name);
}

bool ScopeControl::handle(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  return handle_scope_message(message, fds);
}

bool ScopeControl::handle_scope_message(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  // Whatever happens below, no descriptor outlives this call unless adopted.
  struct CloseRest {
    std::vector<common::UniqueFd>& fds;
    ~CloseRest() { fds.clear(); }
  } close_rest{fds};
  auto type = ipc::peek_type(message);
  if (type == ipc::MessageType::store_scope) return add_or_update(message, fds);
  if (type == ipc::MessageType::store_scope_remove) return remove(message, fds);
  refuse(type ? std::to_string(static_cast<unsigned>(*type)) : "empty", "not a control message");
  return false;
}

bool ScopeControl::add_or_update(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  ipc::StoreScope scope;
  if (!ipc::decode(message, scope)) {
    refuse("store_scope", "malformed");
    return false;
  }
  if (!policy::tenant_name_valid(scope.name)) {
    refuse("store_scope", "not a tenant's name", scope.name);
    return false;
  }
  if (fds.size() > 1) {
    refuse("store_scope", std::to_string(fds.size()) + " descriptors (at most one)", scope.name);
    return false;
  }
  bool known = scopes_.has_scope(scope.name);
  if (!known && fds.empty()) {
    refuse("store_scope", "a new scope needs its listening socket", scope.name);
    return false;
  }
  bool with_listener = !fds.empty();
  common::UniqueFd listener;
  if (with_listener) {
    if (auto problem = check_listening_socket(fds.front().get())) {
      refuse("store_scope", *problem, scope.name);
      return false;
    }
    listener = std::move(fds.front());
    common::set_cloexec(listener.get(), true);
  }
  // The listener first: if libuv refuses it, nothing has changed (a known
  // scope keeps its old one). No client can arrive before the quota is set:
  // this runs to its end before the loop accepts anyone.
  if (listener && !server_.listen(std::move(listener), scope.name)) return false;
  size_t max_bytes = scope.max_bytes > SIZE_MAX ? SIZE_MAX : static_cast<size_t>(scope.max_bytes);
  log::Line line(log::Level::info, known ? "store-scope-updated" : "store-scope-added");
  line.kv("scope", scope.name).kv("max_bytes", scope.max_bytes).kv("new_listener", with_listener);
  scopes_.set_scope(scope.name, max_bytes, line);
  return true;
}

bool ScopeControl::remove(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  ipc::StoreScopeRemove scope;
  if (!ipc::decode(message, scope)) {
    refuse("store_scope_remove", "malformed");
    return false;
  }
  if (!fds.empty()) {
    refuse("store_scope_remove", "carries descriptors", scope.name);
    return false;
  }
  if (!policy::tenant_name_valid(scope.name) || !scopes_.has_scope(scope.name)) {
    refuse("store_scope_remove", "no such scope", scope.name);
    return false;
  }
  size_t clients = server_.client_count(scope.name);
  // Clients first: none may write once the quota is gone.
  server_.close_scope(scope.name);
  log::Line line(log::Level::info, "store-scope-removed");
  line.kv("scope", scope.name).kv("clients_closed", clients);
  scopes_.remove_scope(scope.name, line);
  return true;
}

bool ControlChannel::start(common::UniqueFd channel) {
  channel_ = std::move(channel);
  int rc = poll_.init(uv_poll_init, loop_, channel_.get());
  if (rc == 0) {
    poll_->data = this;
    watch();
  }
  if (rc != 0) {
    log::error("store-control-failed").kv("error", uv_strerror(rc));
    stop();
    return false;
  }
  return true;
}

void ControlChannel::stop() {
  poll_.reset();
  channel_.reset();
  outbox_.clear();
  reader_.reset();
}

void ControlChannel::send(std::vector<uint8_t> message) {
  if (!channel_) return;
  if (outbox_.empty()) {
    int error = 0;
    auto result = ipc::send_message(channel_.get(), message, {}, &error);
    if (result == ipc::IoResult::ok) return;
    if (result != ipc::IoResult::would_block) {
      log::error("store-control-failed").err(error);
      return;
    }
  }
  if (outbox_.size() == kMaxQueued) outbox_.pop_front();
  outbox_.push_back(std::move(message));
  watch();
}

void ControlChannel::on_writable() {
  while (!outbox_.empty() && channel_) {
    int error = 0;
    auto result = ipc::send_message(channel_.get(), outbox_.front(), {}, &error);
    if (result == ipc::IoResult::would_block) break;
    if (result != ipc::IoResult::ok) log::error("store-control-failed").err(error);
    outbox_.pop_front();
  }
  watch();
}

void ControlChannel::watch() {
  if (!poll_) return;
  uv_poll_start(poll_.get(), UV_READABLE | (outbox_.empty() ? 0 : UV_WRITABLE), [](uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<ControlChannel*>(handle->data);
    if (self == nullptr) return;
    if (status < 0) {
      log::error("store-control-failed").kv("error", uv_strerror(status));
      self->stop();
      return;
    }
    if ((events & UV_WRITABLE) != 0) {
      self->on_writable();
      if (!self->channel_) return;
    }
    if ((events & UV_READABLE) != 0) self->on_readable();
  });
}

void ControlChannel::on_readable() {
  // A bounded batch per wake-up; the poll is level-triggered, so what the
  // kernel still holds comes on the next iteration (what the reader holds
  // would not wake it: that is read now).
  for (int handled = 0; channel_ && (handled < 64 || reader_.pending()); ++handled) {
    int error = 0;
    switch (reader_.next(channel_.get(), &error)) {
      case ipc::IoResult::ok:
        control_.handle(reader_.bytes(), reader_.fds());
        break;
      case ipc::IoResult::would_block:
        return;
      case ipc::IoResult::closed:
        log::info("store-control-closed");
        stop();
        return;
      case ipc::IoResult::error:
        // A truncated message (its fds are closed already): skip it. Any
        // other error ends the channel.
        if (error == EMSGSIZE) {
          refuse("?", "truncated");
          break;
        }
        log::error("store-control-failed").err(error);
        stop();
        return;
    }
  }
}

}  // namespace store
