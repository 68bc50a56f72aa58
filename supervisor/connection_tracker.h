#pragma once
// Every TCP connection handed to a worker stays known to the supervisor until
// it is closed: the supervisor keeps its own reference to the socket, in an
// epoll set that reports only EPOLLHUP/EPOLLERR, which the kernel raises once
// both directions are shut (or on reset). So connection counts are the
// kernel's truth, not the worker's word, and the supervisor can close any
// connection itself (worker death, idle timeout, unload). Idle timeouts use
// the kernel's own clock of the last data in each direction (TCP_INFO).
//
// Closes wake the supervisor one by one while they are rare. Under churn
// (closes less than kBatchWindowMs apart) each such wake-up would preempt the
// worker finishing the next connection, so the tracker collects closes every
// kBatchWindowMs instead until a round finds none. Whoever reads the counts
// (status, conns, metrics, a connection cap about to refuse) calls sweep()
// first, so nothing observable lags behind the kernel.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/one_shot_timer.h"

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"

namespace supervisor {

struct TrackedConnection;

class ConnectionOwner {
 public:
  // `idle` is true when the broker closed it for its idle timeout.
  virtual void on_connection_closed(uint64_t id, const TrackedConnection& connection, bool idle) = 0;
  // For `portbrokerctl conns`: whose connection it is.
  virtual const std::string& handler_name() const = 0;
  // The handler's tenant, empty for the operator's.
  virtual const std::string& tenant_name() const = 0;
  virtual pid_t owner_pid() const = 0;

 protected:
  ~ConnectionOwner() = default;
};

struct TrackedConnection {
  common::UniqueFd fd;
  ConnectionOwner* owner = nullptr;
  common::SocketAddress remote;
  uint64_t idle_timeout_ms = 0;  // 0: none
  uint64_t opened_ms = 0;
  // The trusted balancer it came through (`remote` is the client its PROXY
  // header declared); empty for a direct client.
  common::SocketAddress via;
  // Dialed by the broker for the handler (supervisor/egress/), not accepted.
  bool outbound = false;
};

class ConnectionTracker {
 public:
  explicit ConnectionTracker(uv_loop_t* loop) : loop_(loop) {}
  ConnectionTracker(const ConnectionTracker&) = delete;
  ConnectionTracker& operator=(const ConnectionTracker&) = delete;

  bool start(std::string& error);
  // False (and the socket shut down for both sides) when it cannot be tracked.
  bool add(uint64_t id, TrackedConnection connection);
  // Closes the supervisor's reference and shuts the socket down for both sides.
  void close(uint64_t id);
  void close_all_of(const ConnectionOwner* owner);
  // Takes in every close the kernel has reported; returns how many.
  size_t sweep();
  size_t size() const { return connections_.size(); }
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const auto& [id, connection] : connections_) visit(id, connection);
  }

 private:
  static constexpr uint64_t kBatchWindowMs = 10;

  void watch();
  void on_events();
  void batch_closes();
  // `reported`: the kernel reported its close (its one-shot entry is spent).
  void forget(uint64_t id, bool idle, bool reported);
  void schedule_idle_check(uint64_t id, uint64_t due_ms);
  void check_idle();

  using Due = std::pair<uint64_t, uint64_t>;  // (due ms, connection id)
  uv_loop_t* loop_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> idle_checks_;
  uint64_t armed_for_ms_ = 0;
  common::OneShotTimer idle_timer_;
  common::UniqueFd epoll_fd_;
  common::UvHandle<uv_poll_t> poll_;
  common::OneShotTimer batch_timer_;
  uint64_t last_close_ms_ = 0;  // 0: no close since the tracker last went back to waking per close
  std::unordered_map<uint64_t, TrackedConnection> connections_;
};

}  // namespace supervisor
