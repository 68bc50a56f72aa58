#pragma once
// The access manifest `<name>.<proto>.<port>.port.json`: strict parsing, with
// every error naming the JSON path. The same reader checks a module's `access`
// export, which uses the manifest's fields except `tls`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/egress_rules.h"
#include "policy/handler_filename.h"
#include "policy/ip_address.h"
#include "policy/tls_settings.h"

namespace policy {

inline constexpr size_t kMaxManifestBytes = 64 * 1024;
inline constexpr uint32_t kMaxConnectionsLimit = 1000000;
inline constexpr uint32_t kMaxRatePerSource = 1000000;
// Replies may total at most this many times the bytes received (replyRatio).
inline constexpr uint32_t kMaxReplyRatio = 1000;
inline constexpr uint32_t kMaxReplyRate = 10000000;
inline constexpr double kMaxSeconds = 7 * 24 * 3600;
// Entries per allow or deny list, in a manifest or an `access` export. Lists
// are compared with each other when `access` tightens and programmed into
// nftables sets; a bound keeps both cheap whatever a folder writer puts there.
inline constexpr size_t kMaxCidrsPerList = 256;

// proxyProtocol.headerTimeout: the spec asks receivers to wait at least 3 s
// for a header (a TCP retransmit), and a longer wait only holds a slot.
inline constexpr double kDefaultProxyHeaderTimeout = 3;
inline constexpr double kMaxProxyHeaderTimeout = 60;

// Connections from `trusted` sources (load balancers) start with a PROXY
// protocol header naming the client, which is then screened and shown in its
// place; other sources are refused, or served as themselves with allow_direct.
struct ProxyProtocol {
  std::vector<Cidr> trusted;
  bool allow_direct = false;
  double header_timeout_s = kDefaultProxyHeaderTimeout;
};

struct RateLimit {
  uint32_t per_ip = 0;
  double window_s = 0;
  bool operator==(const RateLimit&) const = default;
};

// Bounds on a handler's outbound connections (`connectLimits`); absent
// fields take the broker's defaults (config `egress`).
struct ConnectLimits {
  std::optional<uint32_t> concurrent;  // outbound connections open at once
  std::optional<uint32_t> per_second;  // connects (and lookups) per second, a burst of as many
  bool operator==(const ConnectLimits&) const = default;
};
// What a manifest may ask for, whatever the config's ceilings say.
inline constexpr uint32_t kMaxConnectConcurrent = 100000;
inline constexpr uint32_t kMaxConnectPerSecond = 100000;

struct Manifest {
  std::optional<std::vector<Cidr>> allow;  // absent: every source
  std::vector<Cidr> deny;
  std::optional<uint32_t> max_connections;         // TCP only
  std::optional<uint32_t> max_connections_per_ip;  // TCP only
  std::optional<RateLimit> rate_limit;
  std::optional<double> idle_timeout_s;
  std::optional<uint32_t> reply_ratio;     // UDP only
  std::optional<uint32_t> max_reply_rate;  // UDP only: replies per second, the whole handler
  TlsSettings tls;  // TCP only
  // Destinations the handler may connect to (policy/egress_rules.h). A
  // manifest without it allows none; an `access` export without it leaves
  // the manifest's list as it is.
  std::optional<std::vector<EgressRule>> connect;
  ConnectLimits connect_limits;
  std::optional<ProxyProtocol> proxy_protocol;  // TCP only, sidecar only
};

// Reads a `connect` list ("/connect" or a tenant's "/tenants/x/egress"):
// an array of at most kMaxEgressRules entries, each error naming its
// index and the entry.
std::vector<EgressRule> read_egress_rules(const nlohmann::json& value, const std::string& path);

enum class ManifestKind { sidecar, module_access };

// Throws JsonFieldError (path + message) on the first invalid field.
Manifest parse_manifest(std::string_view text, Transport transport, ManifestKind kind = ManifestKind::sidecar);

// "echo.tcp.7000.port.js" → "echo.tcp.7000.port.json"
std::string manifest_file_for(std::string_view handler_file);

}  // namespace policy
