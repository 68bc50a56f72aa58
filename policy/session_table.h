#pragma once
// UDP "sessions": the sources (address and port) that sent a datagram within
// the session timeout. Replies may only go to a source with a session, so a
// worker cannot use the handler's port to send to anyone else. Bounded: at
// `max_sessions` the least recently seen source is forgotten. Time comes from
// the caller.

#include <cstdint>
#include <list>
#include <unordered_map>

#include "policy/ip_address.h"

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
  SessionTable(uint64_t timeout_ms, size_t max_sessions) : timeout_ms_(timeout_ms), max_sessions_(max_sessions) {}

  void touch(const Endpoint& endpoint, uint64_t now_ms);
  bool active(const Endpoint& endpoint, uint64_t now_ms) const;
  // Drops sessions idle for the timeout; returns how many.
  size_t expire(uint64_t now_ms);
  size_t size() const { return sessions_.size(); }

 private:
  struct Session {
    Endpoint endpoint;
    uint64_t last_ms;
  };
  uint64_t timeout_ms_;
  size_t max_sessions_;
  std::list<Session> lru_;  // most recent first
  std::unordered_map<Endpoint, std::list<Session>::iterator, EndpointHash> sessions_;
};

}  // namespace policy
