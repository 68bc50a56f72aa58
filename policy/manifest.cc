#include "policy/manifest.h"

#include <cmath>

#include "policy/json_fields.h"

namespace policy {
namespace {

std::vector<Cidr> read_cidrs(const nlohmann::json& value, const std::string& path) {
  if (!value.is_array()) throw JsonFieldError(path, "must be an array of CIDR strings");
  if (value.size() > kMaxCidrsPerList) {
    throw JsonFieldError(path, "has more than " + std::to_string(kMaxCidrsPerList) + " entries");
  }
  std::vector<Cidr> cidrs;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string item_path = path + "/" + std::to_string(i);
    std::string text = read_string(value[i], item_path);
    std::string error;
    auto cidr = parse_cidr(text, error);
    if (!cidr) throw JsonFieldError(item_path, error);
    cidrs.push_back(*cidr);
  }
  return cidrs;
}

// A positive number of seconds (fractions allowed), at most a week.
double read_seconds(const nlohmann::json& value, const std::string& path) {
  if (!value.is_number() || value.is_boolean()) throw JsonFieldError(path, "must be a number of seconds");
  double seconds = value.get<double>();
  if (!(seconds > 0) || seconds > kMaxSeconds || !std::isfinite(seconds)) {
    throw JsonFieldError(path, "must be more than 0 and at most " + std::to_string(static_cast<int>(kMaxSeconds)) +
                                   " seconds");
  }
  return seconds;
}

void tcp_only(Transport transport, const std::string& path) {
  if (transport != Transport::tcp) throw JsonFieldError(path, "applies to TCP handlers only");
}

void udp_only(Transport transport, const std::string& path) {
  if (transport != Transport::udp) throw JsonFieldError(path, "applies to UDP handlers only");
}

ConnectLimits read_connect_limits(const nlohmann::json& value, const std::string& path) {
  require_object(value, path);
  reject_unknown_fields(value, path, {"concurrent", "perSecond"});
  ConnectLimits limits;
  if (value.contains("concurrent")) {
    limits.concurrent =
        static_cast<uint32_t>(read_integer(value["concurrent"], path + "/concurrent", 1, kMaxConnectConcurrent));
  }
  if (value.contains("perSecond")) {
    limits.per_second =
        static_cast<uint32_t>(read_integer(value["perSecond"], path + "/perSecond", 1, kMaxConnectPerSecond));
  }
  return limits;
}

ProxyProtocol read_proxy_protocol(const nlohmann::json& value, const std::string& path) {
  require_object(value, path);
  reject_unknown_fields(value, path, {"trusted", "allowDirect", "headerTimeout"});
  if (!value.contains("trusted")) throw JsonFieldError(path + "/trusted", "is required");
  ProxyProtocol proxy;
  proxy.trusted = read_cidrs(value["trusted"], path + "/trusted");
  if (proxy.trusted.empty()) {
    throw JsonFieldError(path + "/trusted", "must name at least one source whose PROXY headers are believed");
  }
  if (value.contains("allowDirect")) proxy.allow_direct = read_bool(value["allowDirect"], path + "/allowDirect");
  if (value.contains("headerTimeout")) {
    const auto& timeout = value["headerTimeout"];
    std::string timeout_path = path + "/headerTimeout";
    if (!timeout.is_number() || timeout.is_boolean()) throw JsonFieldError(timeout_path, "must be a number of seconds");
    proxy.header_timeout_s = timeout.get<double>();
    if (!(proxy.header_timeout_s > 0) || proxy.header_timeout_s > kMaxProxyHeaderTimeout) {
      throw JsonFieldError(timeout_path, "must be more than 0 and at most " +
                                             std::to_string(static_cast<int>(kMaxProxyHeaderTimeout)) + " seconds");
    }
  }
  return proxy;
}

}  // namespace

std::vector<EgressRule> read_egress_rules(const nlohmann::json& value, const std::string& path) {
  if (!value.is_array()) throw JsonFieldError(path, "must be an array of \"host:port\" strings");
  if (value.size() > kMaxEgressRules) {
    throw JsonFieldError(path, "has more than " + std::to_string(kMaxEgressRules) + " entries");
  }
  std::vector<EgressRule> rules;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string item_path = path + "/" + std::to_string(i);
    std::string text = read_string(value[i], item_path);
    std::string error;
    auto rule = parse_egress_rule(text, error);
    if (!rule) throw JsonFieldError(item_path, error);
    rules.push_back(std::move(*rule));
  }
  return rules;
}

Manifest parse_manifest(std::string_view text, Transport transport, ManifestKind kind) {
  if (text.size() > kMaxManifestBytes) {
    throw JsonFieldError("/", "is larger than " + std::to_string(kMaxManifestBytes) + " bytes");
  }
  nlohmann::json document = parse_json_object(text);
  if (kind == ManifestKind::sidecar) {
    reject_unknown_fields(document, "/",
                          {"allow", "deny", "maxConnections", "maxConnectionsPerIp", "rateLimit", "tls", "idleTimeout",
                           "replyRatio", "maxReplyRate", "connect", "connectLimits",
                           "proxyProtocol"});
  } else {
    reject_unknown_fields(document, "/",
                          {"allow", "deny", "maxConnections", "maxConnectionsPerIp", "rateLimit", "idleTimeout",
                           "replyRatio", "maxReplyRate", "connect", "connectLimits"});
  }
  Manifest manifest;
  if (document.contains("allow")) manifest.allow = read_cidrs(document["allow"], "/allow");
  if (document.contains("deny")) manifest.deny = read_cidrs(document["deny"], "/deny");
  if (document.contains("maxConnections")) {
    tcp_only(transport, "/maxConnections");
    manifest.max_connections =
        static_cast<uint32_t>(read_integer(document["maxConnections"], "/maxConnections", 1, kMaxConnectionsLimit));
  }
  if (document.contains("maxConnectionsPerIp")) {
    tcp_only(transport, "/maxConnectionsPerIp");
    manifest.max_connections_per_ip = static_cast<uint32_t>(
        read_integer(document["maxConnectionsPerIp"], "/maxConnectionsPerIp", 1, kMaxConnectionsLimit));
  }
  if (document.contains("rateLimit")) {
    const auto& rate = document["rateLimit"];
    require_object(rate, "/rateLimit");
    reject_unknown_fields(rate, "/rateLimit", {"perIp", "window"});
    if (!rate.contains("perIp")) throw JsonFieldError("/rateLimit/perIp", "is required");
    if (!rate.contains("window")) throw JsonFieldError("/rateLimit/window", "is required");
    manifest.rate_limit = RateLimit{
        static_cast<uint32_t>(read_integer(rate["perIp"], "/rateLimit/perIp", 1, kMaxRatePerSource)),
        read_seconds(rate["window"], "/rateLimit/window"),
    };
  }
  if (document.contains("tls")) {
    require_object(document["tls"], "/tls");
    if (transport != Transport::tcp) throw JsonFieldError("/tls", "applies to TCP handlers only");
    manifest.tls = parse_tls_settings(document["tls"], "/tls");
  }
  if (document.contains("proxyProtocol")) {
    require_object(document["proxyProtocol"], "/proxyProtocol");
    tcp_only(transport, "/proxyProtocol");
    manifest.proxy_protocol = read_proxy_protocol(document["proxyProtocol"], "/proxyProtocol");
  }
  if (document.contains("idleTimeout")) manifest.idle_timeout_s = read_seconds(document["idleTimeout"], "/idleTimeout");
  if (document.contains("replyRatio")) {
    udp_only(transport, "/replyRatio");
    manifest.reply_ratio =
        static_cast<uint32_t>(read_integer(document["replyRatio"], "/replyRatio", 1, kMaxReplyRatio));
  }
  if (document.contains("maxReplyRate")) {
    udp_only(transport, "/maxReplyRate");
    manifest.max_reply_rate =
        static_cast<uint32_t>(read_integer(document["maxReplyRate"], "/maxReplyRate", 1, kMaxReplyRate));
  }
  if (document.contains("connect")) manifest.connect = read_egress_rules(document["connect"], "/connect");
  if (document.contains("connectLimits")) {
    manifest.connect_limits = read_connect_limits(document["connectLimits"], "/connectLimits");
  }
  return manifest;
}

std::string manifest_file_for(std::string_view handler_file) {
  std::string_view stem = handler_file.ends_with(".js") ? handler_file.substr(0, handler_file.size() - 3) : handler_file;
  return std::string(stem) + ".json";
}

}  // namespace policy
