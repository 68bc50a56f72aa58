#include "supervisor/admission.h"
#include "tests/unit/address_literals.h"

#include <doctest/doctest.h>

#include <string>

#include "policy/manifest.h"

using policy::EffectivePolicy;
using policy::Refusal;
using policy::ScreeningDefaults;
using policy::Transport;
using supervisor::Admission;

namespace {

// A UDP or TCP peer as the socket reports it.
common::SocketAddress peer(const std::string& address, uint16_t port) {
  policy::IpAddress parsed = ip(address);
  return common::SocketAddress::from_parts(parsed.is_v4 ? AF_INET : AF_INET6, parsed.bytes, port);
}

Admission admission(const std::string& manifest_json, Transport transport, const ScreeningDefaults& defaults = {}) {
  auto manifest = policy::parse_manifest(manifest_json, transport);
  return Admission(policy::effective_policy(manifest, transport, defaults), defaults);
}

}  // namespace

TEST_CASE("the default UDP rate limit refuses a source's 1001st datagram within a second") {
  Admission udp = admission("{}", Transport::udp);
  const auto flood = peer("192.0.2.1", 1);
  int admitted = 0;
  for (int i = 0; i < 1001; ++i) admitted += udp.admit_datagram(flood, 5000) == Refusal::none;
  CHECK(admitted == 1000);
  CHECK(udp.admit_datagram(peer("192.0.2.2", 1), 5000) == Refusal::none);
  CHECK(udp.admit_datagram(flood, 5001) == Refusal::none);
  auto status = udp.policy_status();
  CHECK(status["rateLimit"] == nlohmann::json::parse(R"([{"perIp": 1000, "window": 1.0}])"));
}

TEST_CASE("the default per-IP cap keeps one source from holding every connection slot") {
  Admission tcp = admission("{}", Transport::tcp);
  const auto source = ip("192.0.2.1");
  uint64_t active = 0;
  for (; active < 1024; ++active) {
    if (tcp.admit_connection(source, active, 0) != Refusal::none) break;
  }
  CHECK(active == 256);
  CHECK(tcp.admit_connection(source, active, 0) == Refusal::max_connections_per_ip);
  CHECK(tcp.admit_connection(ip("192.0.2.2"), active, 0) == Refusal::none);
  CHECK(tcp.policy_status()["maxConnectionsPerIp"] == 256);
  // The manifest's value replaces the default, above it too.
  Admission generous = admission(R"({"maxConnectionsPerIp": 1000})", Transport::tcp);
  for (uint64_t i = 0; i < 1000; ++i) REQUIRE(generous.admit_connection(source, i, 0) == Refusal::none);
  CHECK(generous.admit_connection(source, 1000, 0) == Refusal::max_connections_per_ip);
}
