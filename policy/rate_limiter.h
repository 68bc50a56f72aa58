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
  // Tokens are counted in units of 1/window_ms, so refilling (elapsed ms x
  // per_source units) and spending (window_ms units) are exact integers.
  struct Entry {
    IpAddress key;
    uint64_t credit;
    uint64_t last_ms;
  };

  uint64_t capacity() const { return uint64_t{per_source_} * window_ms_; }

  uint32_t per_source_;
  uint64_t window_ms_;
  size_t max_sources_;
  std::list<Entry> lru_;  // most recently seen first
  std::unordered_map<IpAddress, std::list<Entry>::iterator, IpAddressHash> entries_;
  uint64_t evictions_ = 0;
};

}  // namespace policy
