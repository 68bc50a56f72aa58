#include "policy/screening.h"
#include "tests/unit/address_literals.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using policy::EffectivePolicy;
using policy::effective_policy;
using policy::IpAddress;
using policy::Manifest;
using policy::ManifestKind;
using policy::parse_manifest;
using policy::RateLimit;
using policy::Refusal;
using policy::refusal_name;
using policy::screen_source;
using policy::ScreeningDefaults;
using policy::tighten;
using policy::Transport;

namespace {

// The effective policy of a handler whose sidecar manifest is `json`.
EffectivePolicy with_manifest(const std::string& json, Transport transport = Transport::tcp) {
  return effective_policy(parse_manifest(json, transport), transport, ScreeningDefaults{});
}

// A module's `access` export.
Manifest access(const std::string& json, Transport transport = Transport::tcp) {
  return parse_manifest(json, transport, ManifestKind::module_access);
}

bool mentions(const std::string& text, const std::string& phrase) { return text.find(phrase) != std::string::npos; }

struct SourceCase {
  const char* source;
  Refusal expected;
};

void check_sources(const EffectivePolicy& policy, const std::vector<SourceCase>& cases) {
  for (const auto& c : cases) {
    CAPTURE(std::string(c.source));
    Refusal got = screen_source(policy, ip(c.source));
    CAPTURE(std::string(refusal_name(got)));
    CHECK(got == c.expected);
  }
}

}  // namespace

TEST_CASE("refusal names are the ones counted in status") {
  CHECK(refusal_name(Refusal::none) == "none");
  CHECK(refusal_name(Refusal::deny) == "deny");
  CHECK(refusal_name(Refusal::not_allowed) == "not-allowed");
  CHECK(refusal_name(Refusal::max_connections) == "max-connections");
  CHECK(refusal_name(Refusal::max_connections_per_ip) == "max-connections-per-ip");
  CHECK(refusal_name(Refusal::rate_limit) == "rate-limit");
}

TEST_CASE("without a manifest a TCP handler gets the defaults") {
  const ScreeningDefaults defaults;
  EffectivePolicy policy = effective_policy(std::nullopt, Transport::tcp, defaults);
  CHECK(policy.transport == Transport::tcp);
  CHECK_FALSE(policy.from_manifest);
  CHECK(policy.allow.empty());
  CHECK(policy.deny.empty());
  CHECK(policy.max_connections == defaults.max_connections);
  CHECK(policy.max_connections == 1024);
  CHECK(policy.max_connections_per_ip == defaults.max_connections_per_ip);
  CHECK(policy.max_connections_per_ip == 256u);
  CHECK(policy.rate_limits.empty());
  CHECK(policy.idle_timeout_s == defaults.tcp_idle_timeout_s);
  CHECK(policy.idle_timeout_s == 300.0);
}

TEST_CASE("without a manifest a UDP handler gets the UDP session timeout, rate limit and reply limits") {
  const ScreeningDefaults defaults;
  EffectivePolicy policy = effective_policy(std::nullopt, Transport::udp, defaults);
  CHECK(policy.transport == Transport::udp);
  CHECK_FALSE(policy.from_manifest);
  CHECK(policy.allow.empty());
  CHECK(policy.deny.empty());
  CHECK(policy.rate_limits == std::vector<RateLimit>{defaults.udp_rate_limit});
  CHECK(policy.rate_limits == std::vector<RateLimit>{{1000, 1.0}});
  CHECK_FALSE(policy.max_connections_per_ip.has_value());
  CHECK(policy.reply_ratio == 3);
  CHECK(policy.max_reply_rate == 10000);
  CHECK(policy.idle_timeout_s == defaults.udp_session_timeout_s);
  CHECK(policy.idle_timeout_s == 120.0);
}

TEST_CASE("the defaults come from ScreeningDefaults") {
  ScreeningDefaults defaults;
  defaults.max_connections = 7;
  defaults.tcp_idle_timeout_s = 11;
  defaults.udp_session_timeout_s = 13;
  CHECK(effective_policy(std::nullopt, Transport::tcp, defaults).max_connections == 7);
  CHECK(effective_policy(std::nullopt, Transport::tcp, defaults).idle_timeout_s == 11.0);
  CHECK(effective_policy(std::nullopt, Transport::udp, defaults).idle_timeout_s == 13.0);
  // A manifest that leaves a field out keeps the default for it.
  CHECK(effective_policy(Manifest{}, Transport::tcp, defaults).max_connections == 7);
  CHECK(effective_policy(Manifest{}, Transport::udp, defaults).idle_timeout_s == 13.0);
  defaults.max_connections_per_ip = 5;
  defaults.udp_rate_limit = {50, 2.0};
  defaults.udp_reply_ratio = 2;
  defaults.udp_max_reply_rate = 300;
  for (const auto& manifest : {std::optional<Manifest>(), std::optional<Manifest>(Manifest{})}) {
    CHECK(effective_policy(manifest, Transport::tcp, defaults).max_connections_per_ip == 5u);
    CHECK(effective_policy(manifest, Transport::tcp, defaults).rate_limits.empty());
    EffectivePolicy udp = effective_policy(manifest, Transport::udp, defaults);
    CHECK(udp.rate_limits == std::vector<RateLimit>{{50, 2.0}});
    CHECK(udp.reply_ratio == 2);
    CHECK(udp.max_reply_rate == 300);
  }
}

TEST_CASE("a manifest's maxConnectionsPerIp, rateLimit, replyRatio and maxReplyRate replace the defaults") {
  // Above the defaults too: the manifest, not `access`, is where a handler's
  // limits are set.
  EffectivePolicy tcp = with_manifest(R"({"maxConnectionsPerIp": 1000})");
  CHECK(tcp.max_connections_per_ip == 1000u);
  EffectivePolicy udp = with_manifest(R"({"rateLimit": {"perIp": 5000, "window": 1}, "replyRatio": 10,
      "maxReplyRate": 50000})", Transport::udp);
  CHECK(udp.rate_limits == std::vector<RateLimit>{{5000, 1.0}});
  CHECK(udp.reply_ratio == 10);
  CHECK(udp.max_reply_rate == 50000);
}

TEST_CASE("an empty manifest is marked as from the manifest and keeps every default") {
  for (Transport transport : {Transport::tcp, Transport::udp}) {
    const ScreeningDefaults defaults;
    EffectivePolicy policy = effective_policy(parse_manifest("{}", transport), transport, defaults);
    CHECK(policy.transport == transport);
    CHECK(policy.from_manifest);
    CHECK(policy.allow.empty());
    CHECK(policy.deny.empty());
    CHECK(policy.max_connections == defaults.max_connections);
    if (transport == Transport::tcp) {
      CHECK(policy.max_connections_per_ip == defaults.max_connections_per_ip);
      CHECK(policy.rate_limits.empty());
    } else {
      CHECK_FALSE(policy.max_connections_per_ip.has_value());
      CHECK(policy.rate_limits == std::vector<RateLimit>{defaults.udp_rate_limit});
    }
    CHECK(policy.idle_timeout_s ==
          (transport == Transport::tcp ? defaults.tcp_idle_timeout_s : defaults.udp_session_timeout_s));
  }
}

TEST_CASE("a TCP manifest sets every field of the effective policy") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8", "203.0.113.0/24"], "deny": ["10.9.0.0/16"],
      "maxConnections": 256, "maxConnectionsPerIp": 4, "rateLimit": {"perIp": 20, "window": 10},
      "idleTimeout": 120})");
  CHECK(policy.from_manifest);
  REQUIRE(policy.allow.size() == 1);
  CHECK(policy.allow[0].blocks().size() == 2);
  CHECK(policy.deny.blocks().size() == 1);
  CHECK(policy.max_connections == 256);
  CHECK(policy.max_connections_per_ip == 4u);
  CHECK(policy.rate_limits == std::vector<RateLimit>{{20, 10.0}});
  CHECK(policy.idle_timeout_s == 120.0);
}

TEST_CASE("a UDP manifest's idleTimeout replaces the UDP session timeout") {
  EffectivePolicy policy = with_manifest(R"({"idleTimeout": 30, "rateLimit": {"perIp": 100, "window": 1}})",
                                         Transport::udp);
  CHECK(policy.idle_timeout_s == 30.0);
  CHECK(policy.rate_limits == std::vector<RateLimit>{{100, 1.0}});
  CHECK_FALSE(policy.max_connections_per_ip.has_value());
}

TEST_CASE("with no allow and no deny every source passes") {
  for (const auto& policy : {effective_policy(std::nullopt, Transport::tcp, {}), with_manifest("{}")}) {
    check_sources(policy, {{"10.1.2.3", Refusal::none},
                           {"0.0.0.0", Refusal::none},
                           {"::ffff:192.0.2.1", Refusal::none},
                           {"2001:db8::1", Refusal::none},
                           {"::", Refusal::none}});
  }
}

TEST_CASE("screen_source with allow only refuses everything unmatched as not-allowed") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8", "203.0.113.4", "2001:db8::/32"]})");
  check_sources(policy, {
                            {"10.0.0.0", Refusal::none},
                            {"10.255.255.255", Refusal::none},
                            {"203.0.113.4", Refusal::none},
                            {"2001:db8::1", Refusal::none},
                            {"::ffff:10.1.2.3", Refusal::none},
                            {"::ffff:203.0.113.4", Refusal::none},
                            {"11.0.0.0", Refusal::not_allowed},
                            {"203.0.113.5", Refusal::not_allowed},
                            {"::ffff:203.0.113.5", Refusal::not_allowed},
                            {"2001:db9::1", Refusal::not_allowed},
                            {"::1", Refusal::not_allowed},
                        });
}

TEST_CASE("screen_source with deny only refuses matches as deny and passes the rest") {
  EffectivePolicy policy = with_manifest(R"({"deny": ["10.9.0.0/16", "2001:db8:bad::/48"]})");
  check_sources(policy, {
                            {"10.9.1.1", Refusal::deny},
                            {"::ffff:10.9.1.1", Refusal::deny},
                            {"2001:db8:bad::1", Refusal::deny},
                            {"10.8.1.1", Refusal::none},
                            {"::ffff:10.8.1.1", Refusal::none},
                            {"2001:db8:bad0::1", Refusal::none},
                            {"192.0.2.1", Refusal::none},
                        });
}

TEST_CASE("screen_source with allow and deny: deny wins on overlap, allow is checked first") {
  // The spec's example lists, plus a deny block outside every allow.
  EffectivePolicy policy =
      with_manifest(R"({"allow": ["10.0.0.0/8", "203.0.113.0/24"], "deny": ["10.9.0.0/16", "192.0.2.0/24"]})");
  check_sources(policy, {
                            {"10.1.2.3", Refusal::none},
                            {"203.0.113.77", Refusal::none},
                            {"10.9.0.1", Refusal::deny},
                            {"10.9.255.255", Refusal::deny},
                            {"::ffff:10.9.0.1", Refusal::deny},
                            {"::ffff:10.1.2.3", Refusal::none},
                            {"198.51.100.1", Refusal::not_allowed},
                            // in deny but outside allow: refused by allow first
                            {"192.0.2.1", Refusal::not_allowed},
                            {"2001:db8::1", Refusal::not_allowed},
                        });
}

TEST_CASE("a deny block covering the whole allow list refuses every allowed source as deny") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.1.2.3"], "deny": ["10.0.0.0/8"]})");
  check_sources(policy, {{"10.1.2.3", Refusal::deny}, {"10.1.2.4", Refusal::not_allowed}});
}

TEST_CASE("/0 blocks match every source of their family, and mapped sources count as IPv4") {
  check_sources(with_manifest(R"({"allow": ["0.0.0.0/0"]})"), {{"1.2.3.4", Refusal::none},
                                                                {"::ffff:1.2.3.4", Refusal::none},
                                                                {"2001:db8::1", Refusal::not_allowed}});
  check_sources(with_manifest(R"({"allow": ["::/0"]})"), {{"2001:db8::1", Refusal::none},
                                                           {"1.2.3.4", Refusal::not_allowed}});
  check_sources(with_manifest(R"({"deny": ["0.0.0.0/0"]})"), {{"1.2.3.4", Refusal::deny},
                                                               {"::ffff:1.2.3.4", Refusal::deny},
                                                               {"2001:db8::1", Refusal::none}});
}

TEST_CASE("an empty allow list admits no source") {
  check_sources(with_manifest(R"({"allow": []})"),
                {{"10.1.2.3", Refusal::not_allowed}, {"2001:db8::1", Refusal::not_allowed}});
}

TEST_CASE("tighten: an access allow inside the manifest's allow narrows it without a warning") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8", "203.0.113.0/24"]})");
  auto warnings = tighten(policy, access(R"({"allow": ["10.1.0.0/16", "203.0.113.0/25"]})"));
  CHECK(warnings.empty());
  CHECK(policy.allow.size() == 2);
  check_sources(policy, {{"10.1.2.3", Refusal::none},
                         {"203.0.113.5", Refusal::none},
                         {"10.2.0.1", Refusal::not_allowed},
                         {"203.0.113.200", Refusal::not_allowed}});
}

TEST_CASE("tighten: an access allow with no allow in force applies without a warning") {
  EffectivePolicy policy = with_manifest("{}");
  auto warnings = tighten(policy, access(R"({"allow": ["10.1.0.0/16"]})"));
  CHECK(warnings.empty());
  check_sources(policy, {{"10.1.2.3", Refusal::none}, {"10.2.0.1", Refusal::not_allowed}});
  // Without any manifest at all, too.
  EffectivePolicy defaults = effective_policy(std::nullopt, Transport::tcp, {});
  CHECK(tighten(defaults, access(R"({"allow": ["10.1.0.0/16"]})")).empty());
  check_sources(defaults, {{"10.1.2.3", Refusal::none}, {"10.2.0.1", Refusal::not_allowed}});
}

TEST_CASE("tighten: an access allow entry outside the manifest's allow warns and cannot widen it") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8"]})");
  auto warnings = tighten(policy, access(R"({"allow": ["10.1.0.0/16", "192.0.2.0/24", "0.0.0.0/0"]})"));
  REQUIRE(warnings.size() == 2);
  CHECK(mentions(warnings[0], "access.allow 192.0.2.0/24"));
  CHECK(mentions(warnings[1], "access.allow 0.0.0.0/0"));
  for (const auto& w : warnings) CHECK(mentions(w, "cannot widen"));
  check_sources(policy, {
                            {"192.0.2.1", Refusal::not_allowed},  // not widened
                            {"10.2.0.1", Refusal::none},          // 0.0.0.0/0 in the access list lets it through
                            {"10.1.0.1", Refusal::none},
                            {"198.51.100.1", Refusal::not_allowed},
                        });
}

TEST_CASE("tighten: an access allow entry partly outside the manifest's allow warns") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.1.0.0/16"]})");
  auto warnings = tighten(policy, access(R"({"allow": ["10.0.0.0/8"]})"));
  REQUIRE(warnings.size() == 1);
  CHECK(mentions(warnings[0], "access.allow 10.0.0.0/8"));
  check_sources(policy, {{"10.1.0.1", Refusal::none}, {"10.2.0.1", Refusal::not_allowed}});
}

TEST_CASE("tighten: a source must be in every allow set") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8", "192.168.0.0/16"]})");
  CHECK(tighten(policy, access(R"({"allow": ["10.1.0.0/16", "192.168.1.0/24"]})")).empty());
  check_sources(policy, {{"10.1.0.1", Refusal::none},
                         {"192.168.1.1", Refusal::none},
                         {"10.2.0.1", Refusal::not_allowed},
                         {"192.168.2.1", Refusal::not_allowed},
                         {"::ffff:192.168.1.1", Refusal::none}});
  // A second access narrows again; an entry outside the allow sets in force warns.
  auto warnings = tighten(policy, access(R"({"allow": ["10.1.2.0/24", "192.168.2.0/24"]})"));
  REQUIRE(warnings.size() == 1);
  CHECK(mentions(warnings[0], "192.168.2.0/24"));
  CHECK(policy.allow.size() == 3);
  check_sources(policy, {{"10.1.2.1", Refusal::none},
                         {"10.1.3.1", Refusal::not_allowed},
                         {"192.168.1.1", Refusal::not_allowed},
                         {"192.168.2.1", Refusal::not_allowed}});
}

TEST_CASE("tighten: an empty access allow admits no source") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8"]})");
  CHECK(tighten(policy, access(R"({"allow": []})")).empty());
  check_sources(policy, {{"10.1.2.3", Refusal::not_allowed}});
}

TEST_CASE("tighten: access deny entries add to the manifest's deny without a warning") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8"], "deny": ["10.9.0.0/16"]})");
  CHECK(tighten(policy, access(R"({"deny": ["10.1.2.0/24", "0.0.0.0/0"]})")).empty());
  CHECK(policy.deny.blocks().size() == 3);
  check_sources(policy, {{"10.9.0.1", Refusal::deny}, {"10.1.2.3", Refusal::deny}, {"10.2.0.1", Refusal::deny},
                         {"192.0.2.1", Refusal::not_allowed}});
  // Deny from access with no manifest deny.
  EffectivePolicy open = with_manifest("{}");
  CHECK(tighten(open, access(R"({"deny": ["2001:db8::/32"]})")).empty());
  check_sources(open, {{"2001:db8::1", Refusal::deny}, {"2001:db9::1", Refusal::none}});
}

TEST_CASE("tighten: a lower or equal maxConnections applies") {
  struct Case {
    const char* manifest;
    const char* access;
    uint32_t expected;
  };
  const std::vector<Case> cases = {
      {R"({"maxConnections": 256})", R"({"maxConnections": 10})", 10},
      {R"({"maxConnections": 256})", R"({"maxConnections": 256})", 256},
      {"{}", R"({"maxConnections": 1023})", 1023},  // below the default cap
      {"{}", R"({"maxConnections": 1024})", 1024},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.manifest));
    CAPTURE(std::string(c.access));
    EffectivePolicy policy = with_manifest(c.manifest);
    CHECK(tighten(policy, access(c.access)).empty());
    CHECK(policy.max_connections == c.expected);
  }
}

TEST_CASE("tighten: a higher maxConnections is skipped with a warning") {
  struct Case {
    const char* manifest;
    const char* access;
    uint32_t kept;
  };
  const std::vector<Case> cases = {
      {R"({"maxConnections": 256})", R"({"maxConnections": 257})", 256},
      {"{}", R"({"maxConnections": 1025})", 1024},  // above the default cap
      {"{}", R"({"maxConnections": 1000000})", 1024},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.manifest));
    CAPTURE(std::string(c.access));
    EffectivePolicy policy = with_manifest(c.manifest);
    auto warnings = tighten(policy, access(c.access));
    REQUIRE(warnings.size() == 1);
    CHECK(mentions(warnings[0], "access.maxConnections"));
    CHECK(mentions(warnings[0], "(" + std::to_string(c.kept) + ")"));
    CHECK(mentions(warnings[0], "ignored"));
    CHECK(policy.max_connections == c.kept);
  }
}

TEST_CASE("tighten: maxConnectionsPerIp applies when none is in force or it is lower") {
  struct Case {
    const char* manifest;
    const char* access;
    uint32_t expected;
  };
  const std::vector<Case> cases = {
      {"{}", R"({"maxConnectionsPerIp": 100})", 100},
      {R"({"maxConnectionsPerIp": 8})", R"({"maxConnectionsPerIp": 2})", 2},
      {R"({"maxConnectionsPerIp": 8})", R"({"maxConnectionsPerIp": 8})", 8},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.manifest));
    CAPTURE(std::string(c.access));
    EffectivePolicy policy = with_manifest(c.manifest);
    CHECK(tighten(policy, access(c.access)).empty());
    CHECK(policy.max_connections_per_ip == c.expected);
  }
}

TEST_CASE("tighten: a higher maxConnectionsPerIp is skipped with a warning") {
  EffectivePolicy policy = with_manifest(R"({"maxConnectionsPerIp": 8})");
  auto warnings = tighten(policy, access(R"({"maxConnectionsPerIp": 9})"));
  REQUIRE(warnings.size() == 1);
  CHECK(mentions(warnings[0], "access.maxConnectionsPerIp 9"));
  CHECK(mentions(warnings[0], "(8)"));
  CHECK(policy.max_connections_per_ip == 8u);
}

TEST_CASE("tighten: a rate limit with none in force applies without a warning") {
  EffectivePolicy policy = with_manifest("{}");
  CHECK(tighten(policy, access(R"({"rateLimit": {"perIp": 1000, "window": 1}})")).empty());
  CHECK(policy.rate_limits == std::vector<RateLimit>{{1000, 1.0}});
}

TEST_CASE("tighten: on UDP a rate limit adds to the default one, which it cannot loosen") {
  EffectivePolicy policy = with_manifest("{}", Transport::udp);
  CHECK(tighten(policy, access(R"({"rateLimit": {"perIp": 100, "window": 1}})", Transport::udp)).empty());
  CHECK(policy.rate_limits == std::vector<RateLimit>{{1000, 1.0}, {100, 1.0}});
  EffectivePolicy looser = with_manifest("{}", Transport::udp);
  auto warnings = tighten(looser, access(R"({"rateLimit": {"perIp": 5000, "window": 1}})", Transport::udp));
  REQUIRE(warnings.size() == 1);
  CHECK(mentions(warnings[0], "not stricter than the limit in force"));
  CHECK(looser.rate_limits.front() == RateLimit{1000, 1.0});
}

TEST_CASE("tighten: a lower replyRatio or maxReplyRate applies, a higher one warns") {
  EffectivePolicy policy = with_manifest(R"({"replyRatio": 5, "maxReplyRate": 2000})", Transport::udp);
  CHECK(tighten(policy, access(R"({"replyRatio": 1, "maxReplyRate": 2000})", Transport::udp)).empty());
  CHECK(policy.reply_ratio == 1);
  CHECK(policy.max_reply_rate == 2000);
  EffectivePolicy defaults = with_manifest("{}", Transport::udp);
  auto warnings = tighten(defaults, access(R"({"replyRatio": 4, "maxReplyRate": 10001})", Transport::udp));
  REQUIRE(warnings.size() == 2);
  CHECK(mentions(warnings[0], "access.replyRatio 4 is above the limit in force (3); ignored"));
  CHECK(mentions(warnings[1], "access.maxReplyRate 10001 is above the limit in force (10000); ignored"));
  CHECK(defaults.reply_ratio == 3);
  CHECK(defaults.max_reply_rate == 10000);
}

TEST_CASE("tighten: maxConnectionsPerIp above the default per-IP cap warns") {
  EffectivePolicy policy = with_manifest("{}");
  auto warnings = tighten(policy, access(R"({"maxConnectionsPerIp": 300})"));
  REQUIRE(warnings.size() == 1);
  CHECK(mentions(warnings[0], "access.maxConnectionsPerIp 300 is above the limit in force (256)"));
  CHECK(policy.max_connections_per_ip == 256u);
}

TEST_CASE("tighten: a rate limit stricter in burst or in rate is added without a warning") {
  // The manifest allows a burst of 20 and 2 per second.
  const char* manifest = R"({"rateLimit": {"perIp": 20, "window": 10}})";
  struct Case {
    const char* label;
    RateLimit added;
  };
  const std::vector<Case> cases = {
      {"stricter in both", {10, 10.0}},
      {"stricter in both, longer window", {10, 20.0}},
      {"same burst, slower rate", {20, 20.0}},
      {"smaller burst, same rate", {10, 5.0}},
      {"smaller burst, faster rate", {10, 1.0}},
      {"larger burst, slower rate", {40, 40.0}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    EffectivePolicy policy = with_manifest(manifest);
    Manifest a;
    a.rate_limit = c.added;
    CHECK(tighten(policy, a).empty());
    // Both apply: the manifest's and the added one.
    CHECK(policy.rate_limits == std::vector<RateLimit>{{20, 10.0}, c.added});
  }
}

TEST_CASE("tighten: a rate limit no stricter in either burst or rate warns, and the manifest's still applies") {
  const char* manifest = R"({"rateLimit": {"perIp": 20, "window": 10})";
  struct Case {
    const char* label;
    RateLimit added;
  };
  const std::vector<Case> cases = {
      {"identical", {20, 10.0}},
      {"same burst, faster rate", {20, 5.0}},
      {"larger burst, same rate", {40, 20.0}},
      {"looser in both", {100, 1.0}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    EffectivePolicy policy = with_manifest(manifest + std::string("}"));
    Manifest a;
    a.rate_limit = c.added;
    auto warnings = tighten(policy, a);
    REQUIRE(warnings.size() == 1);
    CHECK(mentions(warnings[0], "access.rateLimit " + std::to_string(c.added.per_ip) + " per"));
    CHECK(mentions(warnings[0], "not stricter"));
    REQUIRE_FALSE(policy.rate_limits.empty());
    CHECK(policy.rate_limits.front() == RateLimit{20, 10.0});
  }
}

TEST_CASE("tighten: a rate limit warning names the window in seconds") {
  EffectivePolicy policy = with_manifest(R"({"rateLimit": {"perIp": 1, "window": 10}})");
  auto warnings = tighten(policy, access(R"({"rateLimit": {"perIp": 5, "window": 0.5}})"));
  REQUIRE(warnings.size() == 1);
  CHECK(mentions(warnings[0], "access.rateLimit 5 per 0.5s"));
}

TEST_CASE("tighten: a shorter or equal idleTimeout applies") {
  struct Case {
    const char* manifest;
    const char* access;
    Transport transport;
    double expected;
  };
  const std::vector<Case> cases = {
      {R"({"idleTimeout": 120})", R"({"idleTimeout": 30})", Transport::tcp, 30.0},
      {R"({"idleTimeout": 120})", R"({"idleTimeout": 120})", Transport::tcp, 120.0},
      {R"({"idleTimeout": 120})", R"({"idleTimeout": 0.25})", Transport::tcp, 0.25},
      {"{}", R"({"idleTimeout": 299.5})", Transport::tcp, 299.5},  // below the TCP default
      {"{}", R"({"idleTimeout": 60})", Transport::udp, 60.0},      // below the UDP default
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.manifest));
    CAPTURE(std::string(c.access));
    EffectivePolicy policy = with_manifest(c.manifest, c.transport);
    CHECK(tighten(policy, access(c.access, c.transport)).empty());
    CHECK(policy.idle_timeout_s == c.expected);
  }
}

TEST_CASE("tighten: a longer idleTimeout is skipped with a warning") {
  struct Case {
    const char* manifest;
    const char* access;
    Transport transport;
    double kept;
    const char* kept_text;
  };
  const std::vector<Case> cases = {
      {R"({"idleTimeout": 120})", R"({"idleTimeout": 120.5})", Transport::tcp, 120.0, "(120s)"},
      {"{}", R"({"idleTimeout": 301})", Transport::tcp, 300.0, "(300s)"},
      {"{}", R"({"idleTimeout": 121})", Transport::udp, 120.0, "(120s)"},
      {R"({"idleTimeout": 0.5})", R"({"idleTimeout": 604800})", Transport::udp, 0.5, "(0.5s)"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.manifest));
    CAPTURE(std::string(c.access));
    EffectivePolicy policy = with_manifest(c.manifest, c.transport);
    auto warnings = tighten(policy, access(c.access, c.transport));
    REQUIRE(warnings.size() == 1);
    CHECK(mentions(warnings[0], "access.idleTimeout"));
    CHECK(mentions(warnings[0], c.kept_text));
    CHECK(policy.idle_timeout_s == c.kept);
  }
}

TEST_CASE("tighten: an empty access changes nothing") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8"], "deny": ["10.9.0.0/16"], "maxConnections": 5,
      "maxConnectionsPerIp": 2, "rateLimit": {"perIp": 3, "window": 1}, "idleTimeout": 9})");
  CHECK(tighten(policy, access("{}")).empty());
  CHECK(policy.allow.size() == 1);
  CHECK(policy.deny.blocks().size() == 1);
  CHECK(policy.max_connections == 5);
  CHECK(policy.max_connections_per_ip == 2u);
  CHECK(policy.rate_limits.size() == 1);
  CHECK(policy.idle_timeout_s == 9.0);
  CHECK(policy.from_manifest);
}

TEST_CASE("tighten: loosening parts are skipped while every tightening part in the same access applies") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/8"], "deny": ["10.9.0.0/16"], "maxConnections": 256,
      "maxConnectionsPerIp": 8, "rateLimit": {"perIp": 20, "window": 10}, "idleTimeout": 120})");
  SUBCASE("caps loosen, the rest tightens") {
    auto warnings = tighten(policy, access(R"({"allow": ["10.1.0.0/16"], "deny": ["10.1.2.0/24"],
        "maxConnections": 1000, "maxConnectionsPerIp": 100, "rateLimit": {"perIp": 5, "window": 10},
        "idleTimeout": 30})"));
    REQUIRE(warnings.size() == 2);
    CHECK(mentions(warnings[0], "access.maxConnections "));
    CHECK(mentions(warnings[1], "access.maxConnectionsPerIp"));
    CHECK(policy.max_connections == 256);
    CHECK(policy.max_connections_per_ip == 8u);
    CHECK(policy.rate_limits == std::vector<RateLimit>{{20, 10.0}, {5, 10.0}});
    CHECK(policy.idle_timeout_s == 30.0);
    check_sources(policy, {{"10.1.0.1", Refusal::none}, {"10.1.2.1", Refusal::deny}, {"10.2.0.1", Refusal::not_allowed}});
  }
  SUBCASE("allow, rate and idle loosen, the caps tighten") {
    auto warnings = tighten(policy, access(R"({"allow": ["192.0.2.0/24"], "maxConnections": 16,
        "maxConnectionsPerIp": 1, "rateLimit": {"perIp": 50, "window": 1}, "idleTimeout": 600})"));
    REQUIRE(warnings.size() == 3);
    CHECK(mentions(warnings[0], "access.allow 192.0.2.0/24"));
    CHECK(mentions(warnings[1], "access.rateLimit"));
    CHECK(mentions(warnings[2], "access.idleTimeout"));
    CHECK(policy.max_connections == 16);
    CHECK(policy.max_connections_per_ip == 1u);
    CHECK(policy.rate_limits.front() == RateLimit{20, 10.0});
    CHECK(policy.idle_timeout_s == 120.0);
    // The allow entry outside cannot widen: the sets intersect to nothing.
    check_sources(policy, {{"192.0.2.1", Refusal::not_allowed}, {"10.1.0.1", Refusal::not_allowed}});
  }
}

TEST_CASE("tighten: an access allow entry covered by several manifest blocks together does not warn") {
  EffectivePolicy policy = with_manifest(R"({"allow": ["10.0.0.0/9", "10.128.0.0/9"]})");
  CHECK(tighten(policy, access(R"({"allow": ["10.0.0.0/8"]})")).empty());
  check_sources(policy, {{"10.1.0.1", Refusal::none}, {"10.200.0.1", Refusal::none}});
}

TEST_CASE("quadratic policy check: a 256-entry allow tightened by a 256-entry access finishes") {
  // The manifest's allow tiles 10.0.0.0/8 with its 256 /16s, and each access
  // entry is the whole /8 or one /24 of it: each covered only by the union,
  // the case the per-block recursion paid for most.
  std::string manifest = R"({"allow": [)";
  for (int i = 255; i >= 0; --i) manifest += "\"10." + std::to_string(i) + ".0.0/16\"" + (i ? ", " : "]}");
  std::string access_json = R"({"allow": [)";
  for (int i = 0; i < 256; ++i) {
    access_json += (i % 2 ? "\"10.0.0.0/8\"" : "\"10." + std::to_string(i) + ".7.0/24\"") + std::string(i < 255 ? ", " : "]}");
  }
  EffectivePolicy policy = with_manifest(manifest);
  CHECK(tighten(policy, access(access_json)).empty());
  check_sources(policy, {{"10.0.7.1", Refusal::none}, {"10.254.7.255", Refusal::none}, {"10.1.7.1", Refusal::none},
                         {"11.0.0.1", Refusal::not_allowed}});
  // One /16 short of the whole /8: every whole-/8 entry warns.
  manifest = R"({"allow": [)";
  for (int i = 0; i < 255; ++i) manifest += "\"10." + std::to_string(i) + ".0.0/16\"" + (i < 254 ? ", " : "]}");
  EffectivePolicy gap = with_manifest(manifest);
  CHECK(tighten(gap, access(access_json)).size() == 128);
  check_sources(gap, {{"10.255.0.1", Refusal::not_allowed}, {"10.254.7.1", Refusal::none}});
}

TEST_CASE("proxyProtocol carries into the effective policy, and access cannot touch it") {
  CHECK_FALSE(with_manifest("{}").proxy.has_value());
  auto policy = with_manifest(R"({"allow": ["192.0.2.0/24"],
                                  "proxyProtocol": {"trusted": ["10.0.0.0/8"], "allowDirect": true, "headerTimeout": 2}})");
  REQUIRE(policy.proxy.has_value());
  CHECK(policy.proxy->trusted.contains(ip("10.1.2.3")));
  CHECK(policy.proxy->trusted.contains(ip("::ffff:10.1.2.3")));
  CHECK_FALSE(policy.proxy->trusted.contains(ip("192.0.2.1")));
  CHECK(policy.proxy->allow_direct);
  CHECK(policy.proxy->header_timeout_s == 2);
  // The lists are about clients: a balancer is not in allow, a client is.
  CHECK(screen_source(policy, ip("10.1.2.3")) == Refusal::not_allowed);
  CHECK(screen_source(policy, ip("192.0.2.1")) == Refusal::none);
  tighten(policy, parse_manifest(R"({"allow": ["192.0.2.0/25"]})", Transport::tcp, ManifestKind::module_access));
  REQUIRE(policy.proxy.has_value());
  CHECK(policy.proxy->trusted.contains(ip("10.1.2.3")));
}
