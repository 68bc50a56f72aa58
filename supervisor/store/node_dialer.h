#pragma once
// Connects to a store backend node for the relay: resolves a host name
// (libuv's thread pool, never blocking the loop), tries each address in
// turn with a non-blocking connect, all within one deadline, and hands back
// the connected socket (TCP_NODELAY and keepalive on). Unix sockets too.
// Every descriptor lives in a UniqueFd, and a dial cancelled (the broker
// stopping) releases its socket and its pending resolution safely.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/unique_fd.h"

namespace supervisor {

class NodeDialer {
 public:
  using Done = std::function<void(common::UniqueFd fd, const std::string& error)>;

  explicit NodeDialer(uv_loop_t* loop);
  NodeDialer(const NodeDialer&) = delete;
  NodeDialer& operator=(const NodeDialer&) = delete;
  ~NodeDialer();

  // `done` is called once, never from inside these calls.
  void dial_tcp(const std::string& host, uint16_t port, uint64_t timeout_ms, Done done);
  void dial_unix(const std::string& path, Done done);
  // Drops every dial under way without calling back.
  void cancel_all();
  size_t in_flight() const { return attempts_.size(); }

 private:
  struct Attempt;
  void resolved(Attempt& attempt, int status, addrinfo* result);
  void try_next(Attempt& attempt);
  void on_writable(Attempt& attempt);  // a connect finished, one way or the other
  void finish(Attempt& attempt, common::UniqueFd fd, const std::string& error);

  uv_loop_t* loop_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Attempt>> attempts_;
};

}  // namespace supervisor
