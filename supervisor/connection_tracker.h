#pragma once
// Every TCP connection handed to a worker stays known to the supervisor until
// it is closed: the supervisor keeps its own reference to the socket, in an
// epoll set that reports only EPOLLHUP/EPOLLERR, which the kernel raises once
// both directions are shut (or on reset). So connection counts are the
// kernel's truth, not the worker's word, and the supervisor can close any
// connection itself (worker death, idle timeout, unload).

#include <uv.h>

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"

namespace supervisor {

class ConnectionOwner {
 public:
  virtual void on_connection_closed(uint64_t id) = 0;

 protected:
  ~ConnectionOwner() = default;
};

struct TrackedConnection {
  common::UniqueFd fd;
  ConnectionOwner* owner = nullptr;
  common::SocketAddress remote;
  uint64_t opened_ms = 0;
};

class ConnectionTracker {
 public:
  explicit ConnectionTracker(uv_loop_t* loop) : loop_(loop) {}
  ConnectionTracker(const ConnectionTracker&) = delete;
  ConnectionTracker& operator=(const ConnectionTracker&) = delete;

  bool start(std::string& error);
  bool add(uint64_t id, TrackedConnection connection);
  // Closes the supervisor's reference and shuts the socket down for both sides.
  void close(uint64_t id);
  void close_all_of(const ConnectionOwner* owner);
  size_t size() const { return connections_.size(); }
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const auto& [id, connection] : connections_) visit(id, connection);
  }

 private:
  void on_events();
  void forget(uint64_t id);

  uv_loop_t* loop_;
  common::UniqueFd epoll_fd_;
  common::UvHandle<uv_poll_t> poll_;
  std::unordered_map<uint64_t, TrackedConnection> connections_;
};

}  // namespace supervisor
