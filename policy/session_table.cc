#include "policy/session_table.h"

#include <algorithm>
#include <limits>

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

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

uint64_t saturating_add(uint64_t a, uint64_t b) { return a > kMax - b ? kMax : a + b; }

}  // namespace

uint64_t SessionTable::on_wire(const Endpoint& endpoint, size_t payload) {
  return saturating_add(payload, endpoint.address.is_v4 ? kIpv4Headers : kIpv6Headers);
}

void SessionTable::received(const Endpoint& endpoint, size_t bytes, uint64_t now_ms) {
  auto found = sessions_.find(endpoint);
  if (found != sessions_.end()) {
    Session& session = *found->second;
    session.last_ms = now_ms;
    session.received_bytes = saturating_add(session.received_bytes, on_wire(endpoint, bytes));
    // A second datagram establishes the session; either way it is now the
    // most recently seen of its segment.
    List& from = session.is_established ? established_ : probationary_;
    session.is_established = true;
    established_.splice(established_.begin(), from, found->second);
    return;
  }
  if (sessions_.size() >= max_sessions_) {
    pop_back(probationary_.empty() ? established_ : probationary_);
    ++evictions_;
  }
  probationary_.push_front(Session{endpoint, now_ms, on_wire(endpoint, bytes), 0, false});
  sessions_.emplace(endpoint, probationary_.begin());
}

ReplyRefusal SessionTable::check_reply(const Endpoint& endpoint, size_t bytes, uint64_t ratio, uint64_t now_ms) const {
  auto found = sessions_.find(endpoint);
  if (found == sessions_.end() || expired(*found->second, now_ms)) return ReplyRefusal::no_session;
  const Session& session = *found->second;
  // ratio x received, saturating: the budget only ever needs to be compared.
  uint64_t received = session.received_bytes;
  uint64_t budget = ratio != 0 && received > kMax / ratio ? kMax : received * ratio;
  uint64_t reply = on_wire(endpoint, bytes);
  if (session.replied_bytes > budget || reply > budget - session.replied_bytes) return ReplyRefusal::amplification;
  return ReplyRefusal::none;
}

void SessionTable::replied(const Endpoint& endpoint, size_t bytes) {
  auto found = sessions_.find(endpoint);
  if (found == sessions_.end()) return;
  found->second->replied_bytes = saturating_add(found->second->replied_bytes, on_wire(endpoint, bytes));
  if (!found->second->is_established) establish(found->second);
}

void SessionTable::establish(List::iterator session) {
  session->is_established = true;
  established_.splice(established_.begin(), probationary_, session);
}

bool SessionTable::active(const Endpoint& endpoint, uint64_t now_ms) const {
  auto found = sessions_.find(endpoint);
  return found != sessions_.end() && !expired(*found->second, now_ms);
}

bool SessionTable::established(const Endpoint& endpoint) const {
  auto found = sessions_.find(endpoint);
  return found != sessions_.end() && found->second->is_established;
}

bool SessionTable::expired(const Session& session, uint64_t now_ms) const {
  // A clock that stepped back leaves the session live.
  return now_ms >= session.last_ms && now_ms - session.last_ms >= timeout_ms_;
}

void SessionTable::pop_back(List& list) {
  sessions_.erase(list.back().endpoint);
  list.pop_back();
}

size_t SessionTable::expire(uint64_t now_ms) {
  size_t expired_count = 0;
  for (List* list : {&probationary_, &established_}) {
    while (!list->empty() && expired(list->back(), now_ms)) {
      pop_back(*list);
      ++expired_count;
    }
  }
  return expired_count;
}

}  // namespace policy
