#include "supervisor/admission.h"

#include <netinet/in.h>

#include <cmath>

namespace supervisor {
namespace {

uint64_t to_ms(double seconds) { return static_cast<uint64_t>(std::llround(seconds * 1000.0)); }

}  // namespace

policy::IpAddress to_ip(const common::SocketAddress& address) {
  auto bytes = address.bytes();
  return (address.family() == AF_INET ? policy::IpAddress::v4(bytes.data()) : policy::IpAddress::v6(bytes.data()))
      .unmapped();
}

common::SocketAddress to_socket_address(const policy::IpAddress& address, uint16_t port) {
  policy::IpAddress plain = address.unmapped();
  return common::SocketAddress::from_parts(plain.is_v4 ? AF_INET : AF_INET6, plain.bytes, port);
}

Admission::Admission(policy::EffectivePolicy policy, const policy::ScreeningDefaults& defaults)
    : policy_(std::move(policy)),
      ipv6_prefix_(defaults.ipv6_prefix),
      max_tracked_sources_(defaults.max_tracked_sources) {
  for (const auto& rate : policy_.rate_limits) limiters_.emplace_back(rate.per_ip, to_ms(rate.window_s), max_tracked_sources_);
  if (policy_.transport == policy::Transport::udp) {
    sessions_ = std::make_unique<policy::SessionTable>(idle_timeout_ms(), max_tracked_sources_);
    reply_rate_.emplace(policy_.max_reply_rate, 1000);
    reply_rate_state_ = reply_rate_->full(0);
  }
}

std::vector<std::string> Admission::tighten(const policy::Manifest& access) {
  size_t limits_before = policy_.rate_limits.size();
  auto warnings = policy::tighten(policy_, access);
  for (size_t i = limits_before; i < policy_.rate_limits.size(); ++i) {
    limiters_.emplace_back(policy_.rate_limits[i].per_ip, to_ms(policy_.rate_limits[i].window_s), max_tracked_sources_);
  }
  if (sessions_) {
    sessions_ = std::make_unique<policy::SessionTable>(idle_timeout_ms(), max_tracked_sources_);
    reply_rate_.emplace(policy_.max_reply_rate, 1000);
    reply_rate_state_ = reply_rate_->full(0);
  }
  return warnings;
}

void Admission::inherit(Admission&& previous) {
  connections_per_source_ = std::move(previous.connections_per_source_);
  refused_ = previous.refused_;
  reply_refused_ = previous.reply_refused_;
  if (sessions_ && previous.sessions_ && previous.idle_timeout_ms() == idle_timeout_ms()) {
    sessions_ = std::move(previous.sessions_);
  }
  // A worker that crashes on purpose must not get a fresh burst of replies.
  if (reply_rate_ && previous.reply_rate_ && previous.policy_.max_reply_rate == policy_.max_reply_rate) {
    reply_rate_state_ = previous.reply_rate_state_;
  }
}

uint64_t Admission::idle_timeout_ms() const { return to_ms(policy_.idle_timeout_s); }

policy::Refusal Admission::rate_limited(const policy::IpAddress& key, uint64_t now_ms) {
  // Every limiter sees the event, so each keeps its own count honestly.
  bool allowed = true;
  for (auto& limiter : limiters_) allowed = limiter.allow(key, now_ms) && allowed;
  return allowed ? policy::Refusal::none : policy::Refusal::rate_limit;
}

policy::Refusal Admission::cap_refusal(const policy::IpAddress& key, uint64_t active_connections) const {
  if (active_connections >= policy_.max_connections) return policy::Refusal::max_connections;
  if (!policy_.max_connections_per_ip) return policy::Refusal::none;
  auto held = connections_per_source_.find(key);
  bool full = held != connections_per_source_.end() && held->second >= *policy_.max_connections_per_ip;
  return full ? policy::Refusal::max_connections_per_ip : policy::Refusal::none;
}

bool Admission::at_capacity(const policy::IpAddress& source, uint64_t active_connections) const {
  return cap_refusal(policy::source_key(source, ipv6_prefix_), active_connections) != policy::Refusal::none;
}

policy::Refusal Admission::admit_connection(const policy::IpAddress& source, uint64_t active_connections,
                                            uint64_t now_ms) {
  if (auto refusal = policy::screen_source(policy_, source); refusal != policy::Refusal::none) return refusal;
  policy::IpAddress key = policy::source_key(source, ipv6_prefix_);
  if (auto refusal = rate_limited(key, now_ms); refusal != policy::Refusal::none) return refusal;
  if (auto refusal = cap_refusal(key, active_connections); refusal != policy::Refusal::none) return refusal;
  ++connections_per_source_[key];
  return policy::Refusal::none;
}

void Admission::connection_closed(const policy::IpAddress& source) {
  auto found = connections_per_source_.find(policy::source_key(source, ipv6_prefix_));
  if (found == connections_per_source_.end()) return;
  if (--found->second == 0) connections_per_source_.erase(found);
}

policy::Refusal Admission::admit_datagram(const common::SocketAddress& peer, size_t bytes, uint64_t now_ms) {
  policy::IpAddress source = to_ip(peer);
  if (auto refusal = policy::screen_source(policy_, source); refusal != policy::Refusal::none) return refusal;
  if (auto refusal = rate_limited(policy::source_key(source, ipv6_prefix_), now_ms); refusal != policy::Refusal::none) {
    return refusal;
  }
  sessions_->received({source, peer.port()}, bytes, now_ms);
  return policy::Refusal::none;
}

bool Admission::may_reply_to(const common::SocketAddress& peer, size_t bytes, uint64_t now_ms) {
  policy::ReplyRefusal refusal = policy::ReplyRefusal::no_session;
  policy::Endpoint endpoint{to_ip(peer), peer.port()};
  if (sessions_) {
    refusal = sessions_->check_reply(endpoint, bytes, policy_.reply_ratio, now_ms);
    // The handler-wide rate is spent only by replies the session would take.
    if (refusal == policy::ReplyRefusal::none && !reply_rate_->take(reply_rate_state_, now_ms)) {
      refusal = policy::ReplyRefusal::rate;
    }
  }
  if (refusal != policy::ReplyRefusal::none) {
    ++reply_refused_[static_cast<size_t>(refusal)];
    return false;
  }
  sessions_->replied(endpoint, bytes);
  return true;
}

void Admission::expire_sessions(uint64_t now_ms) {
  if (sessions_) sessions_->expire(now_ms);
  // Rate-limit state of sources silent for the session window goes with it.
  for (auto& limiter : limiters_) limiter.forget_idle(now_ms, idle_timeout_ms());
}

nlohmann::json Admission::policy_status() const {
  auto cidrs = [](const std::vector<policy::Cidr>& blocks) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& block : blocks) list.push_back(block.to_string());
    return list;
  };
  nlohmann::json allow = nullptr;
  if (!policy_.allow.empty()) {
    allow = nlohmann::json::array();
    for (const auto& set : policy_.allow) allow.push_back(cidrs(set.blocks()));
  }
  nlohmann::json rates = nlohmann::json::array();
  for (const auto& rate : policy_.rate_limits) rates.push_back({{"perIp", rate.per_ip}, {"window", rate.window_s}});
  nlohmann::json status = {
      {"source", policy_.from_manifest ? "manifest" : "defaults"},
      {"allow", allow},
      {"deny", cidrs(policy_.deny.blocks())},
      {"rateLimit", rates},
      {"idleTimeout", policy_.idle_timeout_s},
  };
  if (policy_.transport == policy::Transport::tcp) {
    status["proxyProtocol"] = nullptr;
    if (policy_.proxy) {
      status["proxyProtocol"] = {{"trusted", cidrs(policy_.proxy->trusted.blocks())},
                                 {"allowDirect", policy_.proxy->allow_direct},
                                 {"headerTimeout", policy_.proxy->header_timeout_s}};
    }
    status["maxConnections"] = policy_.max_connections;
    status["maxConnectionsPerIp"] =
        policy_.max_connections_per_ip ? nlohmann::json(*policy_.max_connections_per_ip) : nlohmann::json(nullptr);
  } else {
    status["replyRatio"] = policy_.reply_ratio;
    status["maxReplyRate"] = policy_.max_reply_rate;
  }
  return status;
}

nlohmann::json Admission::refused_status() const {
  nlohmann::json counts = nlohmann::json::object();
  for (size_t i = 1; i < refused_.size(); ++i) {
    counts[std::string(policy::refusal_name(static_cast<policy::Refusal>(i)))] = refused_[i];
  }
  return counts;
}

nlohmann::json Admission::reply_refused_status() const {
  nlohmann::json counts = nlohmann::json::object();
  for (size_t i = 1; i < reply_refused_.size(); ++i) {
    counts[std::string(policy::reply_refusal_name(static_cast<policy::ReplyRefusal>(i)))] = reply_refused_[i];
  }
  return counts;
}

}  // namespace supervisor
