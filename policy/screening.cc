#include "policy/screening.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace policy {
namespace {

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", seconds);
  return text;
}

}  // namespace

std::string_view refusal_name(Refusal refusal) {
  switch (refusal) {
    case Refusal::none: return "none";
    case Refusal::deny: return "deny";
    case Refusal::not_allowed: return "not-allowed";
    case Refusal::max_connections: return "max-connections";
    case Refusal::max_connections_per_ip: return "max-connections-per-ip";
    case Refusal::rate_limit: return "rate-limit";
    case Refusal::idle_timeout: return "idle-timeout";
    case Refusal::tenant_connections: return "tenant-connections";
  }
  return "none";
}

std::string_view reply_refusal_name(ReplyRefusal refusal) {
  switch (refusal) {
    case ReplyRefusal::none: return "none";
    case ReplyRefusal::no_session: return "no-session";
    case ReplyRefusal::amplification: return "amplification";
    case ReplyRefusal::rate: return "rate";
  }
  return "none";
}

EffectivePolicy effective_policy(const std::optional<Manifest>& manifest, Transport transport,
                                 const ScreeningDefaults& defaults) {
  EffectivePolicy policy;
  policy.transport = transport;
  policy.max_connections = defaults.max_connections;
  if (transport == Transport::tcp) {
    policy.max_connections_per_ip = defaults.max_connections_per_ip;
    policy.idle_timeout_s = defaults.tcp_idle_timeout_s;
  } else {
    policy.idle_timeout_s = defaults.udp_session_timeout_s;
    policy.reply_ratio = defaults.udp_reply_ratio;
    policy.max_reply_rate = defaults.udp_max_reply_rate;
  }
  // The manifest's rateLimit replaces the default one rather than adding to
  // it: a manifest may allow a source more than the default.
  std::optional<RateLimit> rate_limit;
  if (transport == Transport::udp) rate_limit = defaults.udp_rate_limit;
  if (manifest) {
    policy.from_manifest = true;
    if (manifest->allow) policy.allow.emplace_back(*manifest->allow);
    policy.deny = CidrSet(manifest->deny);
    if (manifest->max_connections) policy.max_connections = *manifest->max_connections;
    if (manifest->max_connections_per_ip) policy.max_connections_per_ip = manifest->max_connections_per_ip;
    if (manifest->rate_limit) rate_limit = manifest->rate_limit;
    if (manifest->idle_timeout_s) policy.idle_timeout_s = *manifest->idle_timeout_s;
    if (manifest->reply_ratio) policy.reply_ratio = *manifest->reply_ratio;
    if (manifest->max_reply_rate) policy.max_reply_rate = *manifest->max_reply_rate;
    if (const auto& proxy = manifest->proxy_protocol) {
      policy.proxy = ProxyTrust{CidrSet(proxy->trusted), proxy->allow_direct, proxy->header_timeout_s};
    }
  }
  if (rate_limit) policy.rate_limits.push_back(*rate_limit);
  return policy;
}

std::vector<std::string> tighten(EffectivePolicy& policy, const Manifest& access) {
  std::vector<std::string> warnings;
  if (access.allow) {
    // Entries outside every allow in force cannot widen it; the rest narrows.
    for (const auto& block : *access.allow) {
      bool inside = std::all_of(policy.allow.begin(), policy.allow.end(),
                                [&](const CidrSet& set) { return set.covers(block); });
      if (!inside) {
        warnings.push_back("access.allow " + block.to_string() +
                           " is not inside the manifest's allow list; it cannot widen it");
      }
    }
    policy.allow.emplace_back(*access.allow);
  }
  if (!access.deny.empty()) {
    std::vector<Cidr> deny = policy.deny.blocks();
    deny.insert(deny.end(), access.deny.begin(), access.deny.end());
    policy.deny = CidrSet(std::move(deny));
  }
  if (access.max_connections) {
    if (*access.max_connections <= policy.max_connections) {
      policy.max_connections = *access.max_connections;
    } else {
      warnings.push_back("access.maxConnections " + std::to_string(*access.max_connections) +
                         " is above the limit in force (" + std::to_string(policy.max_connections) + "); ignored");
    }
  }
  if (access.max_connections_per_ip) {
    if (!policy.max_connections_per_ip || *access.max_connections_per_ip <= *policy.max_connections_per_ip) {
      policy.max_connections_per_ip = access.max_connections_per_ip;
    } else {
      warnings.push_back("access.maxConnectionsPerIp " + std::to_string(*access.max_connections_per_ip) +
                         " is above the limit in force (" + std::to_string(*policy.max_connections_per_ip) +
                         "); ignored");
    }
  }
  if (access.rate_limit) {
    // Both limits apply, so access can only make it stricter; say so when it
    // would allow more in both burst and rate (then it has no effect).
    const RateLimit& added = *access.rate_limit;
    for (const auto& existing : policy.rate_limits) {
      if (added.per_ip >= existing.per_ip && added.per_ip / added.window_s >= existing.per_ip / existing.window_s) {
        warnings.push_back("access.rateLimit " + std::to_string(added.per_ip) + " per " + seconds_text(added.window_s) +
                           "s is not stricter than the limit in force; that one still applies");
      }
    }
    policy.rate_limits.push_back(added);
  }
  auto lower = [&](const std::optional<uint32_t>& asked, uint32_t& in_force, std::string_view field) {
    if (!asked) return;
    if (*asked <= in_force) {
      in_force = *asked;
    } else {
      warnings.push_back("access." + std::string(field) + " " + std::to_string(*asked) +
                         " is above the limit in force (" + std::to_string(in_force) + "); ignored");
    }
  };
  lower(access.reply_ratio, policy.reply_ratio, "replyRatio");
  lower(access.max_reply_rate, policy.max_reply_rate, "maxReplyRate");
  if (access.idle_timeout_s) {
    if (*access.idle_timeout_s <= policy.idle_timeout_s) {
      policy.idle_timeout_s = *access.idle_timeout_s;
    } else {
      warnings.push_back("access.idleTimeout " + seconds_text(*access.idle_timeout_s) +
                         "s is longer than the timeout in force (" + seconds_text(policy.idle_timeout_s) +
                         "s); ignored");
    }
  }
  return warnings;
}

Refusal screen_source(const EffectivePolicy& policy, const IpAddress& source) {
  for (const auto& set : policy.allow) {
    if (!set.contains(source)) return Refusal::not_allowed;
  }
  // Deny is evaluated after allow and wins on overlap.
  if (policy.deny.contains(source)) return Refusal::deny;
  return Refusal::none;
}

}  // namespace policy
