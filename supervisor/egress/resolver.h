#pragma once
// Names resolved on the supervisor's event loop, with c-ares (Debian's
// libc-ares2), for handlers' egress. getaddrinfo, which the dialer ran on
// libuv's thread pool before, runs at most two lookups at a time for the
// whole process: one handler asking for names whose servers never answer
// held every other handler's lookups, and every other tenant's, for the
// resolver's timeout. Here each query waits only for its own answer.
//
// c-ares reads /etc/hosts and /etc/resolv.conf as the C library does; it
// does not consult NSS modules (mDNS, nss-resolve, LDAP) — docs/egress.md.
// Answers are always delivered on a later turn of the loop, never from
// inside resolve() or c-ares' own processing, so a callback may destroy
// the resolver's owner.

#include <ares.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/one_shot_timer.h"
#include "common/socket_address.h"
#include "common/uv_handle.h"

namespace supervisor::egress {

class Resolver {
 public:
  struct Answer {
    int status = ARES_SUCCESS;  // or an ARES_* error
    std::vector<common::SocketAddress> addresses;
  };
  using Callback = std::function<void(Answer answer)>;

  // `timeout_ms`: how long one query waits for a name server in all.
  Resolver(uv_loop_t* loop, uint32_t timeout_ms);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // `family`: AF_UNSPEC, AF_INET or AF_INET6. `done` is called exactly once
  // unless the resolver is destroyed first.
  void resolve(const std::string& name, int family, Callback done);

  // A failure worth retrying (no server answered, a server failed) rather
  // than a name that does not exist.
  static bool temporary(int status);

  // Queries not yet delivered, and when /etc/resolv.conf was read (the
  // loop's clock): a resolver with nothing pending may be replaced by a
  // fresh one that reads it again, as the C library does when it changes.
  size_t pending() const { return pending_; }
  uint64_t created_ms() const { return created_ms_; }

 private:
  struct Query;
  static void on_answer(void* arg, int status, int timeouts, ares_addrinfo* result);
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
  void process(ares_socket_t readable, ares_socket_t writable);
  void schedule_timeout();
  // Delivered on a later turn of the loop, in order.
  void queue_answer(Callback done, Answer answer);
  void deliver();

  uv_loop_t* loop_;
  ares_channel channel_ = nullptr;
  int init_status_ = ARES_SUCCESS;
  std::map<ares_socket_t, common::UvHandle<uv_poll_t>> polls_;
  common::OneShotTimer timeout_;
  common::OneShotTimer delivery_;
  std::deque<std::pair<Callback, Answer>> ready_;
  size_t pending_ = 0;
  uint64_t created_ms_ = 0;
};

}  // namespace supervisor::egress
