#pragma once
// A handler's admission control in the supervisor, before any hand-off: the
// effective policy (manifest or defaults, tightened by the module's `access`),
// the per-source state it needs (connection counts, rate limiters, UDP
// sessions), and the refusal counters `portbrokerctl status` shows.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/socket_address.h"
#include "policy/rate_limiter.h"
#include "policy/screening.h"
#include "policy/session_table.h"

namespace supervisor {

class Admission {
 public:
  Admission(policy::EffectivePolicy policy, const policy::ScreeningDefaults& defaults);

  // Applies the module's `access` export; returns the parts that would loosen.
  std::vector<std::string> tighten(const policy::Manifest& access);
  // Takes over what must outlive a policy change (a new manifest, a reloaded
  // or restarted worker): the connections each source holds (they are still
  // open), the refusal counters, the UDP sessions (with their reply budgets)
  // when their timeout is unchanged, and the handler's reply rate when it is
  // unchanged. Per-source rate-limit state starts afresh under the new limits.
  void inherit(Admission&& previous);

  // TCP: decide on a new connection. On admit, the source is counted as
  // holding one more connection until connection_closed().
  policy::Refusal admit_connection(const policy::IpAddress& source, uint64_t active_connections, uint64_t now_ms);
  void connection_closed(const policy::IpAddress& source);
  // Whether a connection from `source` would meet a concurrency cap now
  // (asked before admit_connection, which also spends rate-limit tokens).
  bool at_capacity(const policy::IpAddress& source, uint64_t active_connections) const;

  // UDP: decide on a datagram of `bytes` (payload); an admitted one opens or
  // refreshes the sender's session and adds to its reply budget.
  policy::Refusal admit_datagram(const common::SocketAddress& peer, size_t bytes, uint64_t now_ms);
  // UDP: decide on a reply of `bytes`, which needs the peer's session, room
  // in its budget and room under the handler's reply rate. An allowed reply
  // is counted against both; a refused one is counted by reason.
  bool may_reply_to(const common::SocketAddress& peer, size_t bytes, uint64_t now_ms);
  void expire_sessions(uint64_t now_ms);

  void count(policy::Refusal reason) { ++refused_[static_cast<size_t>(reason)]; }
  uint64_t idle_timeout_ms() const;
  const policy::EffectivePolicy& policy() const { return policy_; }

  nlohmann::json policy_status() const;
  nlohmann::json refused_status() const;
  nlohmann::json reply_refused_status() const;

 private:
  policy::Refusal rate_limited(const policy::IpAddress& key, uint64_t now_ms);
  // The concurrency caps, for a source already reduced to its key.
  policy::Refusal cap_refusal(const policy::IpAddress& key, uint64_t active_connections) const;

  policy::EffectivePolicy policy_;
  uint8_t ipv6_prefix_;
  size_t max_tracked_sources_;
  std::vector<policy::RateLimiter> limiters_;
  std::unordered_map<policy::IpAddress, uint32_t, policy::IpAddressHash> connections_per_source_;
  std::unique_ptr<policy::SessionTable> sessions_;  // UDP only
  std::optional<policy::TokenBucket> reply_rate_;   // UDP only
  policy::TokenBucket::State reply_rate_state_{};
  std::array<uint64_t, policy::kRefusalKinds> refused_{};
  std::array<uint64_t, policy::kReplyRefusalKinds> reply_refused_{};
};

policy::IpAddress to_ip(const common::SocketAddress& address);
// The inverse, for addresses learnt from elsewhere (a PROXY header): IPv4-mapped
// ones become IPv4, as SocketAddress::from_sockaddr makes them.
common::SocketAddress to_socket_address(const policy::IpAddress& address, uint16_t port);

}  // namespace supervisor
