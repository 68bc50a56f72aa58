#include "policy/rate_limiter.h"

#include <algorithm>

#include "common/keyed_hash.h"

namespace policy {

size_t IpAddressHash::operator()(const IpAddress& address) const {
  // The family is hashed too: 10.1.2.3 and 0a01:0203:: are different keys.
  uint8_t input[17];
  input[0] = address.is_v4 ? 4 : 6;
  std::copy_n(address.bytes.begin(), address.is_v4 ? 4 : 16, input + 1);
  return static_cast<size_t>(common::keyed_hash(input, address.is_v4 ? 5 : 17));
}

RateLimiter::RateLimiter(uint32_t per_source, uint64_t window_ms, size_t max_sources)
    : per_source_(per_source), window_ms_(std::max<uint64_t>(window_ms, 1)), max_sources_(std::max<size_t>(max_sources, 1)) {}

bool RateLimiter::allow(const IpAddress& key, uint64_t now_ms) {
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (entries_.size() >= max_sources_) {
      entries_.erase(lru_.back().key);
      lru_.pop_back();
      ++evictions_;
    }
    lru_.push_front(Entry{key, capacity(), now_ms});
    found = entries_.emplace(key, lru_.begin()).first;
  } else {
    lru_.splice(lru_.begin(), lru_, found->second);
    Entry& entry = *found->second;
    // A clock that steps back refills nothing, and the time it skipped is
    // not counted twice when it comes back.
    if (now_ms > entry.last_ms) {
      uint64_t elapsed = now_ms - entry.last_ms;
      entry.credit = std::min(capacity(), entry.credit + std::min(elapsed, window_ms_) * per_source_);
      entry.last_ms = now_ms;
    }
  }
  Entry& entry = *found->second;
  if (entry.credit < window_ms_) return false;
  entry.credit -= window_ms_;
  return true;
}

void RateLimiter::forget_idle(uint64_t now_ms, uint64_t idle_ms) {
  while (!lru_.empty() && now_ms >= lru_.back().last_ms && now_ms - lru_.back().last_ms >= idle_ms) {
    entries_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace policy
