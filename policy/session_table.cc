#include "policy/session_table.h"

#include <algorithm>

#include "common/keyed_hash.h"

namespace policy {

size_t EndpointHash::operator()(const Endpoint& endpoint) const {
  // Address and port in one keyed hash: combining two hashes arithmetically
  // would let a sender pick ports that cancel the address's hash out.
  const IpAddress& address = endpoint.address;
  uint8_t input[19];
  input[0] = address.is_v4 ? 4 : 6;
  input[1] = static_cast<uint8_t>(endpoint.port >> 8);
  input[2] = static_cast<uint8_t>(endpoint.port);
  std::copy_n(address.bytes.begin(), address.is_v4 ? 4 : 16, input + 3);
  return static_cast<size_t>(common::keyed_hash(input, address.is_v4 ? 7 : 19));
}

void SessionTable::touch(const Endpoint& endpoint, uint64_t now_ms) {
  auto found = sessions_.find(endpoint);
  if (found != sessions_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    found->second->last_ms = now_ms;
    return;
  }
  if (sessions_.size() >= max_sessions_ && !lru_.empty()) {
    sessions_.erase(lru_.back().endpoint);
    lru_.pop_back();
  }
  lru_.push_front(Session{endpoint, now_ms});
  sessions_.emplace(endpoint, lru_.begin());
}

bool SessionTable::active(const Endpoint& endpoint, uint64_t now_ms) const {
  auto found = sessions_.find(endpoint);
  return found != sessions_.end() && (now_ms < found->second->last_ms || now_ms - found->second->last_ms < timeout_ms_);
}

size_t SessionTable::expire(uint64_t now_ms) {
  size_t expired = 0;
  while (!lru_.empty() && now_ms >= lru_.back().last_ms && now_ms - lru_.back().last_ms >= timeout_ms_) {
    sessions_.erase(lru_.back().endpoint);
    lru_.pop_back();
    ++expired;
  }
  return expired;
}

}  // namespace policy
