#include "worker/proxy_info.h"

#include <nlohmann/json.hpp>

namespace worker {

std::string proxy_info_json(const ipc::ProxyInfo& proxy) {
  nlohmann::json info = {
      {"version", proxy.version},
      {"balancerAddress", proxy.balancer.ip()},
      {"balancerPort", proxy.balancer.port()},
      {"balancerFamily", proxy.balancer.family_name()},
  };
  if (proxy.destination.valid()) {
    info["destinationAddress"] = proxy.destination.ip();
    info["destinationPort"] = proxy.destination.port();
    info["destinationFamily"] = proxy.destination.family_name();
  }
  if (!proxy.authority.empty()) info["authority"] = proxy.authority;
  if (!proxy.alpn.empty()) info["alpn"] = proxy.alpn;
  if (!proxy.unique_id.empty()) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (uint8_t byte : proxy.unique_id) {
      hex += kDigits[byte >> 4];
      hex += kDigits[byte & 0xF];
    }
    info["uniqueId"] = hex;
  }
  if (proxy.ssl) {
    nlohmann::json ssl = {{"clientCertificate", proxy.ssl->client_certificate}, {"verified", proxy.ssl->verified}};
    if (!proxy.ssl->version.empty()) ssl["version"] = proxy.ssl->version;
    if (!proxy.ssl->common_name.empty()) ssl["cn"] = proxy.ssl->common_name;
    info["ssl"] = ssl;
  }
  // The supervisor passes only text it validated; replace is a backstop.
  return info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace worker
