#pragma once
// Per-source rate limiting: a token bucket per source key, holding up to
// `per_source` tokens and refilling `per_source` tokens per `window`. A source
// may burst `per_source` events at once, then one every window/per_source.
// Memory is bounded: at `max_sources` the least recently seen source is
// forgotten (it starts again with a full bucket). Time comes from the caller,
// so this is pure logic.

#include <cstdint>
#include <list>
#include <unordered_map>

#include "policy/ip_address.h"

namespace policy {

// Keyed (common/keyed_hash.h): the addresses come from the network, and with
// an unkeyed hash one IPv6 /64 holds enough addresses to fill one bucket.
struct IpAddressHash {
  size_t operator()(const IpAddress& address) const;
};

// Token-bucket arithmetic: up to `per_window` events at once, refilled at
// `per_window` per `window_ms`. Tokens are counted in units of 1/window_ms,
// so refilling (elapsed ms x per_window units) and spending (window_ms units)
// are exact integers. The state lives with the caller (one per source, or
// one for a whole handler).
class TokenBucket {
 public:
  struct State {
    uint64_t credit;
    uint64_t last_ms;
  };

  TokenBucket(uint32_t per_window, uint64_t window_ms);
  State full(uint64_t now_ms) const { return {capacity(), now_ms}; }
  // True if a token was there (and takes it).
  bool take(State& state, uint64_t now_ms) const;

 private:
  uint64_t capacity() const { return uint64_t{per_window_} * window_ms_; }

  uint32_t per_window_;
  uint64_t window_ms_;
};

class RateLimiter {
 public:
  RateLimiter(uint32_t per_source, uint64_t window_ms, size_t max_sources);

  // True if the event is within the limit (and counts it).
  bool allow(const IpAddress& key, uint64_t now_ms);
  // Forgets sources not seen for `idle_ms` (UDP sessions).
  void forget_idle(uint64_t now_ms, uint64_t idle_ms);

  size_t tracked() const { return entries_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    IpAddress key;
    TokenBucket::State bucket;
  };

  TokenBucket rule_;
  size_t max_sources_;
  std::list<Entry> lru_;  // most recently seen first
  std::unordered_map<IpAddress, std::list<Entry>::iterator, IpAddressHash> entries_;
  uint64_t evictions_ = 0;
};

}  // namespace policy
