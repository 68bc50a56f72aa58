#include "supervisor/connection_tracker.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

#include "common/log.h"
#include "common/process.h"
#include "supervisor/tcp_traffic.h"

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
  watch();
  return true;
}

void ConnectionTracker::watch() {
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
    if (handle->data) static_cast<ConnectionTracker*>(handle->data)->on_events();
  });
}

bool ConnectionTracker::add(uint64_t id, TrackedConnection connection) {
  epoll_event event{};
  // EPOLLHUP and EPOLLERR are always reported; one-shot, because the report
  // is all the tracker needs, and a reported entry then needs no removal.
  event.events = EPOLLONESHOT;
  event.data.u64 = id;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, connection.fd.get(), &event) != 0) {
    common::log::error("connection-track-failed").kv("conn", id).err(errno);
    // Untracked, it would escape the caps and the idle timeout: ended for the
    // worker too, which holds the same socket.
    ::shutdown(connection.fd.get(), SHUT_RDWR);
    return false;
  }
  connection.opened_ms = uv_now(loop_);
  uint64_t idle_timeout_ms = connection.idle_timeout_ms;
  connections_.emplace(id, std::move(connection));
  if (idle_timeout_ms > 0) schedule_idle_check(id, uv_now(loop_) + idle_timeout_ms);
  return true;
}

void ConnectionTracker::forget(uint64_t id, bool idle, bool reported) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  // The worker may still hold another descriptor of the same socket, so
  // closing ours would NOT take it out of the epoll set (epoll forgets a file
  // only when its last descriptor closes). An entry whose close was reported
  // is disabled (one-shot) and harmless; any other must be removed, or it
  // would report later for an id no longer known.
  if (!reported) epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, it->second.fd.get(), nullptr);
  // The socket is shared with the worker: a lingering close set there would
  // block this process in close() (the worker's filter forbids SO_LINGER;
  // this is the second wall).
  linger no_linger{0, 0};
  setsockopt(it->second.fd.get(), SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
  // Moved out first: the owner's callback may look at it.
  TrackedConnection closed = std::move(it->second);
  connections_.erase(it);
  if (closed.owner != nullptr) closed.owner->on_connection_closed(id, closed, idle);
}

void ConnectionTracker::close(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ::shutdown(it->second.fd.get(), SHUT_RDWR);
  forget(id, false, false);
}

void ConnectionTracker::schedule_idle_check(uint64_t id, uint64_t due_ms) {
  idle_checks_.emplace(due_ms, id);
  if (!idle_timer_.pending() || due_ms < armed_for_ms_) {
    armed_for_ms_ = due_ms;
    uint64_t now = uv_now(loop_);
    idle_timer_.start(loop_, due_ms > now ? due_ms - now : 0, [this] { check_idle(); });
  }
}

void ConnectionTracker::check_idle() {
  sweep();  // a connection closed meanwhile is closed, not idle
  uint64_t now = uv_now(loop_);
  while (!idle_checks_.empty() && idle_checks_.top().first <= now) {
    uint64_t id = idle_checks_.top().second;
    idle_checks_.pop();
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;  // closed meanwhile
    auto traffic = tcp_traffic(it->second.fd.get());
    if (!traffic.known) continue;
    uint64_t idle_ms = traffic.idle_ms;
    uint64_t timeout = it->second.idle_timeout_ms;
    if (idle_ms >= timeout) {
      common::log::info("idle-timeout").kv("conn", id).kv("peer", it->second.remote.to_string()).kv("idle_ms", idle_ms);
      ::shutdown(it->second.fd.get(), SHUT_RDWR);
      forget(id, true, false);
    } else {
      idle_checks_.emplace(now + (timeout - idle_ms), id);
    }
  }
  if (!idle_checks_.empty()) {
    armed_for_ms_ = idle_checks_.top().first;
    idle_timer_.start(loop_, armed_for_ms_ > now ? armed_for_ms_ - now : 0, [this] { check_idle(); });
  }
}

void ConnectionTracker::close_all_of(const ConnectionOwner* owner) {
  std::vector<uint64_t> ids;
  for (const auto& [id, connection] : connections_) {
    if (connection.owner == owner) ids.push_back(id);
  }
  for (uint64_t id : ids) close(id);
}

size_t ConnectionTracker::sweep() {
  std::array<epoll_event, 256> events;
  size_t closed = 0;
  for (;;) {
    int n = epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()), 0);
    for (int i = 0; i < n; ++i) forget(events[static_cast<size_t>(i)].data.u64, false, true);
    closed += static_cast<size_t>(std::max(n, 0));
    if (n < static_cast<int>(events.size())) return closed;
  }
}

void ConnectionTracker::on_events() {
  uint64_t now = uv_now(loop_);
  bool churn = last_close_ms_ != 0 && now - last_close_ms_ < kBatchWindowMs;
  if (sweep() > 0) last_close_ms_ = now;
  if (churn) batch_closes();
}

void ConnectionTracker::batch_closes() {
  uv_poll_stop(poll_.get());
  batch_timer_.start(loop_, kBatchWindowMs, [this] {
    if (sweep() > 0) return batch_closes();
    last_close_ms_ = 0;
    watch();
  });
}

}  // namespace supervisor
