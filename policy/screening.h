#pragma once
// The effective access policy of one handler and the admission decision for a
// new connection or datagram. Built from the manifest (or the defaults), then
// only ever tightened by the module's `access` export. Pure logic: counts and
// clocks come from the caller.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/handler_filename.h"
#include "policy/ip_address.h"
#include "policy/manifest.h"
#include "policy/rate_limiter.h"

namespace policy {

// Why a connection or datagram was refused (or, idle_timeout, a connection
// closed), as counted in status.
// tenant_connections: the handler's tenant holds its quota of connections
// (summed over its handlers).
enum class Refusal {
  none,
  deny,
  not_allowed,
  max_connections,
  max_connections_per_ip,
  rate_limit,
  idle_timeout,
  tenant_connections
};
inline constexpr size_t kRefusalKinds = 8;
std::string_view refusal_name(Refusal refusal);

// Why a reply was not sent, as counted in status.
enum class ReplyRefusal { none, no_session, amplification, rate };
inline constexpr size_t kReplyRefusalKinds = 4;
std::string_view reply_refusal_name(ReplyRefusal refusal);

// The broker config's `screening` section; docs/configuration.md has why
// each default is what it is.
struct ScreeningDefaults {
  uint32_t max_connections = 1024;
  // A quarter of max_connections: four sources (or IPv6 /64s) are needed to
  // hold every slot, while a NAT with dozens of users still fits.
  uint32_t max_connections_per_ip = 256;
  double tcp_idle_timeout_s = 300;
  double udp_session_timeout_s = 120;
  // Far above what one client of a real service sends (a VoIP stream is 50
  // packets a second, a game client 60-128), low enough that one source
  // cannot keep a worker busy alone.
  RateLimit udp_rate_limit{1000, 1.0};
  // QUIC's anti-amplification factor (RFC 9000, 8.1).
  uint32_t udp_reply_ratio = 3;
  uint32_t udp_max_reply_rate = 10000;
  uint8_t ipv6_prefix = 64;
  size_t max_tracked_sources = 65536;
};

// proxyProtocol as admission applies it: whose PROXY headers are believed.
struct ProxyTrust {
  CidrSet trusted;
  bool allow_direct = false;
  double header_timeout_s = kDefaultProxyHeaderTimeout;
};

struct EffectivePolicy {
  Transport transport = Transport::tcp;
  // Every set must contain the source (the manifest's allow, then access's).
  std::vector<CidrSet> allow;
  CidrSet deny;
  uint32_t max_connections = 0;  // TCP
  std::optional<uint32_t> max_connections_per_ip;
  std::vector<RateLimit> rate_limits;  // all must allow
  double idle_timeout_s = 0;
  uint32_t reply_ratio = 0;     // UDP: replies to a session total at most this x the bytes it sent
  uint32_t max_reply_rate = 0;  // UDP: replies per second, the whole handler
  bool from_manifest = false;
  // TCP: connections from trusted balancers carry a PROXY header, and the
  // lists, limits and caps above apply to the client it declares.
  std::optional<ProxyTrust> proxy;
};

EffectivePolicy effective_policy(const std::optional<Manifest>& manifest, Transport transport,
                                 const ScreeningDefaults& defaults);

// Applies a module's `access` on top: only the parts that tighten take effect;
// each part that would loosen is skipped and described in the result.
std::vector<std::string> tighten(EffectivePolicy& policy, const Manifest& access);

// The source-address checks (allow, deny), the part nftables can also do.
Refusal screen_source(const EffectivePolicy& policy, const IpAddress& source);

}  // namespace policy
