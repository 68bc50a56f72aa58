#pragma once
// The PROXY protocol gate of one TCP handler, between its listener and its
// admission (manifest `proxyProtocol`). A connection from a trusted balancer
// waits here, off the accept loop, until its header has been read: exactly
// the header's bytes (peeked first, then read to the byte), so the client's
// payload (a TLS ClientHello, a greeting) stays in the socket for the worker.
// Admission then screens the client the header declares. A connection from
// any other source is refused, or, with allowDirect, passed on as itself and
// never read from.
//
// Bounded: a connection waits at most the manifest's headerTimeout, and the
// handler says how many may wait at once (its connection cap less what is
// open), so silent balancers cannot grow the supervisor.

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log_budget.h"
#include "common/one_shot_timer.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/messages.h"
#include "policy/proxy_header.h"
#include "policy/screening.h"

namespace supervisor {

// Why the gate closed a connection, as counted in status and metrics.
enum class ProxyRefusal {
  untrusted,  // not from a trusted source, and allowDirect is off
  malformed,  // the header broke the grammar
  too_large,  // over the size bound
  checksum,   // its CRC32C did not match
  truncated,  // the connection ended (or failed) before the header did
  timeout,    // no complete header within headerTimeout
};
inline constexpr size_t kProxyRefusalKinds = 6;
std::string_view proxy_refusal_name(ProxyRefusal refusal);

class ProxyGate {
 public:
  struct Events {
    // Screen and hand off: `client` is what a trusted balancer declared (then
    // `proxy` says what else its header did), or a direct client's own address.
    std::function<void(common::UniqueFd fd, const common::SocketAddress& client, std::optional<ipc::ProxyInfo> proxy)>
        admit;
    // The gate closed a connection (already counted here by reason).
    std::function<void()> refused;
  };

  ProxyGate(uv_loop_t* loop, std::string handler, std::string tenant, Events events);
  ProxyGate(const ProxyGate&) = delete;
  ProxyGate& operator=(const ProxyGate&) = delete;

  // A new connection under `trust`. At most `room` may wait for their header
  // at once; past that it is closed and false returned, for the caller to
  // count as its cap's refusal. Otherwise it is passed on, refused, or kept.
  bool take(common::UniqueFd fd, const common::SocketAddress& peer, const policy::ProxyTrust& trust, size_t room);
  // Closes every connection still waiting (the handler stops or fails).
  void close_all();

  size_t waiting() const { return waiting_.size(); }
  // Counters for status: waiting, headers by command, refusals by reason.
  nlohmann::json status() const;

 private:
  // Members in this order so that the poll handle is closed before the fd.
  struct Waiting {
    ProxyGate* gate = nullptr;
    uint64_t id = 0;
    common::UniqueFd fd;
    common::SocketAddress peer;
    common::UvHandle<uv_poll_t> poll;
    std::vector<uint8_t> header;  // the header's bytes read so far
    uint64_t deadline_ms = 0;
  };

  void read_header(Waiting& waiting);
  void passed(uint64_t id, const policy::ProxyHeader& header);
  void refuse(uint64_t id, ProxyRefusal reason, const std::string& detail);
  void count_refusal(ProxyRefusal reason, const common::SocketAddress& peer, const std::string& detail);
  std::unique_ptr<Waiting> release(uint64_t id);
  void arm_deadline();
  void expire();

  uv_loop_t* loop_;
  std::string handler_;
  std::string tenant_;
  Events events_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Waiting>> waiting_;
  std::set<std::pair<uint64_t, uint64_t>> deadlines_;  // (deadline ms, id)
  common::OneShotTimer deadline_timer_;
  uint64_t headers_ = 0;        // PROXY: passed on to admission
  uint64_t health_checks_ = 0;  // v2 LOCAL: closed here
  std::array<uint64_t, kProxyRefusalKinds> refused_{};
  // Refusals are caused by whoever connects: the log gets a bounded share.
  common::LogBudget refusal_log_{20, 60};
};

}  // namespace supervisor
