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

TokenBucket::TokenBucket(uint32_t per_window, uint64_t window_ms)
    : per_window_(per_window), window_ms_(std::max<uint64_t>(window_ms, 1)) {}

bool TokenBucket::take(State& state, uint64_t now_ms) const {
  // A clock that steps back refills nothing, and the time it skipped is not
  // counted twice when it comes back.
  if (now_ms > state.last_ms) {
    uint64_t elapsed = now_ms - state.last_ms;
    state.credit = std::min(capacity(), state.credit + std::min(elapsed, window_ms_) * per_window_);
    state.last_ms = now_ms;
  }
  if (state.credit < window_ms_) return false;
  state.credit -= window_ms_;
  return true;
}

RateLimiter::RateLimiter(uint32_t per_source, uint64_t window_ms, size_t max_sources)
    : rule_(per_source, window_ms), max_sources_(std::max<size_t>(max_sources, 1)) {}

bool RateLimiter::allow(const IpAddress& key, uint64_t now_ms) {
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (entries_.size() >= max_sources_) {
      entries_.erase(lru_.back().key);
      lru_.pop_back();
      ++evictions_;
    }
    lru_.push_front(Entry{key, rule_.full(now_ms)});
    found = entries_.emplace(key, lru_.begin()).first;
  } else {
    lru_.splice(lru_.begin(), lru_, found->second);
  }
  return rule_.take(found->second->bucket, now_ms);
}

void RateLimiter::forget_idle(uint64_t now_ms, uint64_t idle_ms) {
  while (!lru_.empty() && now_ms >= lru_.back().bucket.last_ms && now_ms - lru_.back().bucket.last_ms >= idle_ms) {
    entries_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace policy
