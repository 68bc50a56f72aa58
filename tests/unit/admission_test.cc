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

TEST_CASE("reply amplification: replies beyond 3x the bytes received are refused and counted by reason") {
  Admission udp = admission("{}", Transport::udp);
  const auto client = peer("192.0.2.1", 5000);
  // 100 bytes of payload, 128 on the wire: replies may take 384.
  REQUIRE(udp.admit_datagram(client, 100, 0) == Refusal::none);
  // 100 x the request, as a careless or hostile handler would answer.
  CHECK_FALSE(udp.may_reply_to(client, 10000, 1));
  CHECK(udp.may_reply_to(client, 356, 1));
  CHECK_FALSE(udp.may_reply_to(client, 0, 1));
  // To an address that never sent: no session. An IPv4-mapped form of the
  // client is the client.
  CHECK_FALSE(udp.may_reply_to(peer("192.0.2.2", 5000), 1, 1));
  REQUIRE(udp.admit_datagram(peer("::ffff:192.0.2.1", 5000), 1, 2) == Refusal::none);
  CHECK(udp.may_reply_to(client, 59, 3));
  auto refused = udp.reply_refused_status();
  CHECK(refused["amplification"] == 2);
  CHECK(refused["no-session"] == 1);
  CHECK(refused["rate"] == 0);
}

TEST_CASE("the manifest's replyRatio sets the budget") {
  Admission udp = admission(R"({"replyRatio": 10})", Transport::udp);
  const auto client = peer("2001:db8::1", 53);
  REQUIRE(udp.admit_datagram(client, 100, 0) == Refusal::none);  // 148 on the wire
  CHECK(udp.may_reply_to(client, 1432, 1));
  CHECK_FALSE(udp.may_reply_to(client, 0, 1));
  CHECK(udp.policy_status()["replyRatio"] == 10);
}

TEST_CASE("the handler's reply rate caps replies across every session") {
  Admission udp = admission(R"({"maxReplyRate": 5})", Transport::udp);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(udp.admit_datagram(peer("192.0.2." + std::to_string(i + 1), 1), 10, 1000) == Refusal::none);
  }
  int sent = 0;
  for (int i = 0; i < 10; ++i) sent += udp.may_reply_to(peer("192.0.2." + std::to_string(i + 1), 1), 1, 1000);
  CHECK(sent == 5);
  CHECK(udp.reply_refused_status()["rate"] == 5);
  // One more per 200 ms.
  CHECK(udp.may_reply_to(peer("192.0.2.1", 1), 1, 1200));
  CHECK_FALSE(udp.may_reply_to(peer("192.0.2.1", 1), 1, 1200));
  // A reply the session refuses does not spend the handler's rate.
  CHECK_FALSE(udp.may_reply_to(peer("192.0.2.9", 9), 1, 1400));
  CHECK(udp.may_reply_to(peer("192.0.2.2", 1), 1, 1400));
}

TEST_CASE("reply refusal counts survive a policy change") {
  Admission before = admission("{}", Transport::udp);
  CHECK_FALSE(before.may_reply_to(peer("192.0.2.1", 1), 1, 0));
  Admission after = admission(R"({"replyRatio": 1})", Transport::udp);
  after.inherit(std::move(before));
  CHECK(after.reply_refused_status()["no-session"] == 1);
}

TEST_CASE("a restarted worker does not get a fresh burst of replies") {
  auto exhausted = [] {
    Admission udp = admission(R"({"maxReplyRate": 2})", Transport::udp);
    REQUIRE(udp.admit_datagram(peer("192.0.2.1", 1), 100, 1000) == Refusal::none);
    REQUIRE(udp.may_reply_to(peer("192.0.2.1", 1), 1, 1000));
    REQUIRE(udp.may_reply_to(peer("192.0.2.1", 1), 1, 1000));
    return udp;
  };
  Admission same = admission(R"({"maxReplyRate": 2})", Transport::udp);
  same.inherit(exhausted());
  CHECK_FALSE(same.may_reply_to(peer("192.0.2.1", 1), 1, 1000));
  CHECK(same.may_reply_to(peer("192.0.2.1", 1), 1, 1500));
  // Under another rate the bucket starts full.
  Admission other = admission(R"({"maxReplyRate": 3})", Transport::udp);
  other.inherit(exhausted());
  CHECK(other.may_reply_to(peer("192.0.2.1", 1), 1, 1000));
}

TEST_CASE("the default UDP rate limit refuses a source's 1001st datagram within a second") {
  Admission udp = admission("{}", Transport::udp);
  const auto flood = peer("192.0.2.1", 1);
  int admitted = 0;
  for (int i = 0; i < 1001; ++i) admitted += udp.admit_datagram(flood, 1, 5000) == Refusal::none;
  CHECK(admitted == 1000);
  CHECK(udp.admit_datagram(peer("192.0.2.2", 1), 1, 5000) == Refusal::none);
  CHECK(udp.admit_datagram(flood, 1, 5001) == Refusal::none);
  auto status = udp.policy_status();
  CHECK(status["rateLimit"] == nlohmann::json::parse(R"([{"perIp": 1000, "window": 1.0}])"));
  CHECK(status["replyRatio"] == 3);
  CHECK(status["maxReplyRate"] == 10000);
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

TEST_CASE("status shows proxyProtocol on TCP handlers, null when off") {
  CHECK(admission("{}", Transport::tcp).policy_status()["proxyProtocol"].is_null());
  CHECK_FALSE(admission("{}", Transport::udp).policy_status().contains("proxyProtocol"));
  auto status = admission(R"({"proxyProtocol": {"trusted": ["10.0.0.0/8", "2001:db8::1"]}})", Transport::tcp).policy_status();
  CHECK(status["proxyProtocol"] == nlohmann::json::parse(
                                       R"({"trusted": ["10.0.0.0/8", "2001:db8::1/128"], "allowDirect": false, "headerTimeout": 3.0})"));
}

TEST_CASE("addresses learnt from a PROXY header become socket addresses, IPv4-mapped ones plain IPv4") {
  auto plain = supervisor::to_socket_address(ip("::ffff:192.0.2.7"), 5000);
  CHECK(plain.family() == AF_INET);
  CHECK(plain.to_string() == "192.0.2.7:5000");
  CHECK(supervisor::to_socket_address(ip("2001:db8::1"), 443).to_string() == "[2001:db8::1]:443");
  CHECK(supervisor::to_ip(supervisor::to_socket_address(ip("192.0.2.7"), 1)) == ip("192.0.2.7"));
}
