#include "supervisor/connection_tracker.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>

#include "common/log.h"
#include "common/process.h"

namespace supervisor {

bool ConnectionTracker::start(std::string& error) {
  epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_) {
    error = "epoll_create1: " + common::errno_text(errno);
    return false;
  }
  if (int rc = poll_.init(uv_poll_init, loop_, epoll_fd_.get()); rc != 0) {
    error = std::string("cannot watch the connection set: ") + uv_strerror(rc);
    return false;
  }
  poll_->data = this;
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
    if (handle->data) static_cast<ConnectionTracker*>(handle->data)->on_events();
  });
  return true;
}

bool ConnectionTracker::add(uint64_t id, TrackedConnection connection) {
  epoll_event event{};
  event.events = 0;  // EPOLLHUP and EPOLLERR are always reported
  event.data.u64 = id;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, connection.fd.get(), &event) != 0) {
    common::log::error("connection-track-failed").kv("conn", id).err(errno);
    return false;
  }
  connection.opened_ms = uv_now(loop_);
  connections_.emplace(id, std::move(connection));
  return true;
}

void ConnectionTracker::forget(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ConnectionOwner* owner = it->second.owner;
  // Closing the descriptor removes it from the epoll set.
  connections_.erase(it);
  if (owner != nullptr) owner->on_connection_closed(id);
}

void ConnectionTracker::close(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ::shutdown(it->second.fd.get(), SHUT_RDWR);
  forget(id);
}

void ConnectionTracker::close_all_of(const ConnectionOwner* owner) {
  std::vector<uint64_t> ids;
  for (const auto& [id, connection] : connections_) {
    if (connection.owner == owner) ids.push_back(id);
  }
  for (uint64_t id : ids) close(id);
}

void ConnectionTracker::on_events() {
  std::array<epoll_event, 256> events;
  for (;;) {
    int n = epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()), 0);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) forget(events[static_cast<size_t>(i)].data.u64);
    if (n < static_cast<int>(events.size())) return;
  }
}

}  // namespace supervisor
