#pragma once
// UDP "sessions": the sources (address and port) that sent a datagram within
// the session timeout. Replies may only go to a source with a session, so a
// worker cannot use the handler's port to send to anyone else, and only
// within the session's reply budget: at most `ratio` times the bytes the
// source sent (QUIC's anti-amplification rule), so one spoofed datagram
// cannot make the handler flood the address it names. Bytes are counted as
// on the wire, IP and UDP headers included: that is what reaches the victim
// of a reflection, and it leaves a protocol with tiny requests ("ping" and
// "pong #1") room to answer.
//
// Bounded at `max_sessions`, in two segments. A source seen once and not
// yet answered is probationary; one that sent again or got a reply is
// established. A new source at the bound pushes out the least recently seen
// probationary session, and an established one only when there is none, so
// a flood of one-datagram (spoofed) sources replaces itself and leaves the
// established clients alone. Time comes from the caller.

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

#include "policy/ip_address.h"
#include "policy/screening.h"

namespace policy {

struct Endpoint {
  IpAddress address;  // IPv4-mapped addresses unmapped
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

// Keyed (common/keyed_hash.h): sources choose their address and port.
struct EndpointHash {
  size_t operator()(const Endpoint& endpoint) const;
};

class SessionTable {
 public:
  SessionTable(uint64_t timeout_ms, size_t max_sessions)
      : timeout_ms_(timeout_ms), max_sessions_(max_sessions > 0 ? max_sessions : 1) {}

  // IPv4 and UDP headers; IPv6 and UDP headers.
  static constexpr uint64_t kIpv4Headers = 20 + 8;
  static constexpr uint64_t kIpv6Headers = 40 + 8;

  // A datagram with `bytes` of payload from `endpoint`: opens its session or
  // refreshes it, and adds to its reply budget.
  void received(const Endpoint& endpoint, size_t bytes, uint64_t now_ms);
  // Whether a reply with `bytes` of payload may go to `endpoint` now, replies
  // to it totalling at most `ratio` times what it sent (both on the wire).
  ReplyRefusal check_reply(const Endpoint& endpoint, size_t bytes, uint64_t ratio, uint64_t now_ms) const;
  // A reply that check_reply allowed is going out: spends its budget and
  // establishes the session.
  void replied(const Endpoint& endpoint, size_t bytes);

  bool active(const Endpoint& endpoint, uint64_t now_ms) const;
  bool established(const Endpoint& endpoint) const;
  // Drops sessions idle for the timeout; returns how many. A session
  // established by a reply is found a little late (it moved ahead of
  // sessions seen after it), which active() makes up for.
  size_t expire(uint64_t now_ms);
  size_t size() const { return sessions_.size(); }
  size_t established_count() const { return established_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Session {
    Endpoint endpoint;
    uint64_t last_ms;
    uint64_t received_bytes = 0;
    uint64_t replied_bytes = 0;
    bool is_established = false;
  };
  using List = std::list<Session>;  // most recently seen first

  static uint64_t on_wire(const Endpoint& endpoint, size_t payload);
  void establish(List::iterator session);
  void pop_back(List& list);
  bool expired(const Session& session, uint64_t now_ms) const;

  uint64_t timeout_ms_;
  size_t max_sessions_;
  List probationary_;
  List established_;
  std::unordered_map<Endpoint, List::iterator, EndpointHash> sessions_;
  uint64_t evictions_ = 0;
};

}  // namespace policy
