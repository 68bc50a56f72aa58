#include "policy/egress_rules.h"

#include <doctest/doctest.h>

#include "policy/egress_settings.h"
#include "policy/json_fields.h"
#include "policy/manifest.h"

namespace {

using policy::AddressClass;
using policy::EgressPolicy;
using policy::EgressRefusal;
using policy::EgressRule;
using policy::EgressRuleSet;
using policy::EgressTarget;
using policy::IpAddress;

EgressRule rule(const std::string& text) {
  std::string error;
  auto parsed = policy::parse_egress_rule(text, error);
  INFO(text << ": " << error);
  REQUIRE(parsed.has_value());
  return *parsed;
}

std::string error_of(const std::string& text) {
  std::string error;
  auto parsed = policy::parse_egress_rule(text, error);
  return parsed ? "" : error;
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

EgressRuleSet set(std::initializer_list<const char*> texts) {
  std::vector<EgressRule> rules;
  for (const char* text : texts) rules.push_back(rule(text));
  return EgressRuleSet(std::move(rules));
}

EgressPolicy policy_of(std::initializer_list<const char*> texts) {
  EgressPolicy policy;
  policy.add_layer(set(texts));
  return policy;
}

const policy::CidrSet kNoHostAddresses;

}  // namespace

TEST_CASE("the issue's entries parse, and their canonical text parses back into the same rule") {
  struct Case {
    const char* text;
    EgressTarget target;
    const char* canonical;
  };
  const Case cases[] = {
      {"db.internal:5432", EgressTarget::name, "db.internal:5432"},
      {"10.1.0.0/16:6379", EgressTarget::block, "10.1.0.0/16:6379"},
      {"api.example.com:443", EgressTarget::name, "api.example.com:443"},
      {"public:443", EgressTarget::public_addresses, "public:443"},
      {"*.example.com:8000-8100", EgressTarget::wildcard, "*.example.com:8000-8100"},
      {"10.2.0.0/16:*", EgressTarget::block, "10.2.0.0/16:*"},
      {"10.2.3.4:80", EgressTarget::block, "10.2.3.4:80"},
      {"10.2.3.4/32:80", EgressTarget::block, "10.2.3.4:80"},
      {"[2001:db8::/32]:443", EgressTarget::block, "[2001:db8::/32]:443"},
      {"[::1]:6379", EgressTarget::block, "[::1]:6379"},
      {"API.Example.COM.:443", EgressTarget::name, "api.example.com:443"},
      {"redis_1:6379", EgressTarget::name, "redis_1:6379"},
      {"public:1-65535", EgressTarget::public_addresses, "public:*"},
      {"*.internal:*", EgressTarget::wildcard, "*.internal:*"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    EgressRule parsed = rule(c.text);
    CHECK(parsed.target == c.target);
    CHECK(parsed.to_string() == c.canonical);
    CHECK(rule(parsed.to_string()) == parsed);
  }
  CHECK(rule("*.example.com:8000-8100").ports == policy::PortRange{8000, 8100});
  CHECK(rule("db:*").ports == policy::PortRange{1, 65535});
}

TEST_CASE("invalid entries are refused with the entry named") {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"db.internal", "has no port"},
      {"db.internal:", "invalid port"},
      {"db.internal:0", "invalid port"},
      {"db.internal:65536", "invalid port"},
      {"db.internal:0443", "invalid port"},
      {"db.internal:+443", "invalid port"},
      {"db.internal:9-8", "invalid port"},
      {"db.internal: 443", "invalid port"},
      {":443", "has no host"},
      {"10.1.2.3/16:80", "host bits set"},
      {"10.1.0.0/33:80", "invalid prefix"},
      {"2001:db8::1:443", "in brackets"},
      {"[10.0.0.1]:443", "brackets an IPv4"},
      {"[2001:db8::1:443", "unbalanced"},
      {"*:443", "not a host name"},
      {"a.*.example.com:443", "'*'"},
      {"*.*.example.com:443", "not a wildcard over a valid name"},
      {"127.1:80", "not a host name"},
      {"0x7f.0.0.1:80", "not a host name"},
      {"2130706433:80", "not a host name"},
      {"-bad.example.com:80", "not a host name"},
      {"bad-.example.com:80", "not a host name"},
      {"a..b:80", "not a host name"},
      {"exa mple.com:80", "not a host name"},
      {"ex\x01mple.com:80", "\\x01"},
      {"PUBLIC:443", "lower case"},
      {"fe80::1%eth0:80", "not a host name"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    std::string error = error_of(c.text);
    CHECK(error.find(c.says) != std::string::npos);
    // The entry itself is in the message.
    CHECK(error.find('\'') == 0);
  }
  CHECK_FALSE(error_of(std::string(300, 'a') + ".com:80").empty());
  CHECK(error_of(std::string(600, 'a')).find("longer than") != std::string::npos);
}

TEST_CASE("address classes: every special-purpose block, and the forms that carry IPv4") {
  struct Case {
    const char* address;
    AddressClass kind;
  };
  const Case cases[] = {
      {"8.8.8.8", AddressClass::global},
      {"11.0.0.1", AddressClass::global},
      {"0.0.0.0", AddressClass::unspecified},
      {"0.1.2.3", AddressClass::unspecified},
      {"127.0.0.1", AddressClass::loopback},
      {"127.255.255.254", AddressClass::loopback},
      {"10.0.0.1", AddressClass::private_use},
      {"172.16.0.1", AddressClass::private_use},
      {"172.31.255.255", AddressClass::private_use},
      {"172.32.0.1", AddressClass::global},
      {"192.168.1.1", AddressClass::private_use},
      {"100.64.0.1", AddressClass::shared},
      {"100.127.255.255", AddressClass::shared},
      {"100.128.0.1", AddressClass::global},
      {"169.254.169.254", AddressClass::link_local},
      {"224.0.0.1", AddressClass::multicast},
      {"239.255.255.250", AddressClass::multicast},
      {"255.255.255.255", AddressClass::reserved},
      {"240.0.0.1", AddressClass::reserved},
      {"192.0.2.1", AddressClass::documentation},
      {"198.51.100.7", AddressClass::documentation},
      {"203.0.113.9", AddressClass::documentation},
      {"198.18.0.1", AddressClass::reserved},
      {"192.0.0.8", AddressClass::reserved},
      {"::", AddressClass::unspecified},
      {"::1", AddressClass::loopback},
      {"2606:4700::1111", AddressClass::global},
      {"fe80::1", AddressClass::link_local},
      {"fd00:ec2::254", AddressClass::private_use},
      {"fc00::1", AddressClass::private_use},
      {"ff02::1", AddressClass::multicast},
      {"2001:db8::1", AddressClass::documentation},
      {"3fff::1", AddressClass::documentation},
      {"2001::1", AddressClass::reserved},  // Teredo
      {"100::1", AddressClass::reserved},
      {"fec0::1", AddressClass::reserved},
      {"4000::1", AddressClass::reserved},
      // IPv4 in IPv6 clothing: the IPv4 address decides.
      {"::ffff:127.0.0.1", AddressClass::loopback},
      {"::ffff:169.254.169.254", AddressClass::link_local},
      {"::ffff:8.8.8.8", AddressClass::global},
      {"::ffff:0:10.0.0.1", AddressClass::private_use},
      {"64:ff9b::127.0.0.1", AddressClass::loopback},
      {"64:ff9b::a9fe:a9fe", AddressClass::link_local},
      {"64:ff9b::8.8.8.8", AddressClass::global},
      {"64:ff9b:1::8.8.8.8", AddressClass::reserved},
      {"2002:7f00:1::", AddressClass::loopback},
      {"2002:a9fe:a9fe::1", AddressClass::link_local},
      {"2002:808:808::1", AddressClass::global},
      {"::127.0.0.1", AddressClass::reserved},  // IPv4-compatible, deprecated
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.address));
    CHECK(policy::address_class_name(policy::classify(ip(c.address))) == policy::address_class_name(c.kind));
  }
}

TEST_CASE("host names as handlers ask for them are normalised, and numeric forms are not names") {
  CHECK(policy::normalize_host_name("API.Example.com.") == "api.example.com");
  CHECK(policy::normalize_host_name("localhost") == "localhost");
  for (const char* bad : {"", ".", "a..b", "127.1", "0x7f", "1.2.3.4.5", "a.0x1f", "a b", "a/b", "a:b", "-a", "a-",
                          "é.com"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(policy::normalize_host_name(bad));
  }
  CHECK_FALSE(policy::normalize_host_name(std::string_view("a\0b", 3)));
  CHECK(policy::normalize_host_name("a.0x1g") == "a.0x1g");
  CHECK(policy::normalize_host_name("1a.example.com") == "1a.example.com");
  std::string error;
  auto host = policy::parse_egress_host("[::1]", error);
  REQUIRE(host);
  CHECK(host->address == ip("::1"));
  host = policy::parse_egress_host("10.0.0.1", error);
  REQUIRE(host);
  CHECK(host->address == ip("10.0.0.1"));
  host = policy::parse_egress_host("DB.internal", error);
  REQUIRE(host);
  CHECK(host->name == "db.internal");
  CHECK_FALSE(policy::parse_egress_host("[10.0.0.1]", error));
  CHECK_FALSE(policy::parse_egress_host("010.0.0.1", error));
  CHECK_FALSE(policy::parse_egress_host("127.1", error));
}

TEST_CASE("names resolve only when every layer names them, at that port") {
  auto policy = policy_of({"db.internal:5432", "*.example.com:8000-8100", "10.1.0.0/16:6379"});
  CHECK(policy.check_name("db.internal", 5432) == EgressRefusal::none);
  CHECK(policy.check_name("db.internal", 5433) == EgressRefusal::not_allowed);
  CHECK(policy.check_name("db.internal", std::nullopt) == EgressRefusal::none);
  CHECK(policy.check_name("api.example.com", 8000) == EgressRefusal::none);
  CHECK(policy.check_name("api.example.com", 8101) == EgressRefusal::not_allowed);
  // One label, as for TLS names.
  CHECK(policy.check_name("example.com", 8000) == EgressRefusal::not_allowed);
  CHECK(policy.check_name("a.b.example.com", 8000) == EgressRefusal::not_allowed);
  CHECK(policy.check_name("badexample.com", 8000) == EgressRefusal::not_allowed);
  // A CIDR entry alone does not let arbitrary names be resolved (no DNS
  // queries for names the operator never listed).
  CHECK(policy.check_name("redis.internal", 6379) == EgressRefusal::not_allowed);
  auto open = policy_of({"public:443"});
  CHECK(open.check_name("anything.example.org", 443) == EgressRefusal::none);
  CHECK(open.check_name("anything.example.org", 80) == EgressRefusal::not_allowed);
}

TEST_CASE("a name entry admits only global addresses; private ones need an explicit block") {
  auto policy = policy_of({"db.internal:5432", "api.example.com:443", "10.1.0.0/16:5432"});
  const IpAddress global[] = {ip("8.8.8.8")};
  CHECK(policy.check_answers("api.example.com", 443, global, kNoHostAddresses) == EgressRefusal::none);
  const IpAddress metadata[] = {ip("169.254.169.254")};
  CHECK(policy.check_answers("api.example.com", 443, metadata, kNoHostAddresses) == EgressRefusal::forbidden_address);
  const IpAddress loopback6[] = {ip("::1")};
  CHECK(policy.check_answers("api.example.com", 443, loopback6, kNoHostAddresses) == EgressRefusal::forbidden_address);
  const IpAddress mapped[] = {ip("::ffff:127.0.0.1")};
  CHECK(policy.check_answers("api.example.com", 443, mapped, kNoHostAddresses) == EgressRefusal::forbidden_address);
  const IpAddress nat64[] = {ip("64:ff9b::10.0.0.1")};
  CHECK(policy.check_answers("api.example.com", 443, nat64, kNoHostAddresses) == EgressRefusal::forbidden_address);
  // db.internal resolving into 10.1/16 is admitted by the block entry.
  const IpAddress internal[] = {ip("10.1.2.3")};
  CHECK(policy.check_answers("db.internal", 5432, internal, kNoHostAddresses) == EgressRefusal::none);
  const IpAddress outside[] = {ip("10.2.2.3")};
  CHECK(policy.check_answers("db.internal", 5432, outside, kNoHostAddresses) == EgressRefusal::forbidden_address);
}

TEST_CASE("DNS rebinding: one forbidden answer refuses the name whole") {
  auto policy = policy_of({"api.example.com:443"});
  const IpAddress answers[] = {ip("8.8.8.8"), ip("127.0.0.1"), ip("8.8.4.4")};
  CHECK(policy.check_answers("api.example.com", 443, answers, kNoHostAddresses) == EgressRefusal::forbidden_address);
  const IpAddress none[] = {ip("8.8.8.8")};
  CHECK(policy.check_answers("api.example.com", 443, std::span<const IpAddress>(none, 0), kNoHostAddresses) ==
        EgressRefusal::not_allowed);
}

TEST_CASE("the host's own addresses are reached only by an explicit entry") {
  policy::CidrSet host({policy::Cidr{ip("8.8.8.8"), 32}, policy::Cidr{ip("2606:4700::1"), 128}});
  auto by_name = policy_of({"self.example.com:80", "public:80"});
  const IpAddress own[] = {ip("8.8.8.8")};
  CHECK(by_name.check_answers("self.example.com", 80, own, host) == EgressRefusal::forbidden_address);
  CHECK(by_name.check_address(ip("8.8.8.8"), 80, host) == EgressRefusal::forbidden_address);
  CHECK(by_name.check_address(ip("::ffff:8.8.8.8"), 80, host) == EgressRefusal::forbidden_address);
  CHECK(by_name.check_address(ip("2606:4700::1"), 80, host) == EgressRefusal::forbidden_address);
  auto explicit_entry = policy_of({"8.8.8.8:80"});
  CHECK(explicit_entry.check_address(ip("8.8.8.8"), 80, host) == EgressRefusal::none);
}

TEST_CASE("address literals: blocks admit any class, public only global ones") {
  auto policy = policy_of({"127.0.0.1:6379", "[::1]:6379", "10.1.0.0/16:*", "public:443"});
  CHECK(policy.check_address(ip("127.0.0.1"), 6379, kNoHostAddresses) == EgressRefusal::none);
  CHECK(policy.check_address(ip("::ffff:127.0.0.1"), 6379, kNoHostAddresses) == EgressRefusal::none);
  CHECK(policy.check_address(ip("::1"), 6379, kNoHostAddresses) == EgressRefusal::none);
  CHECK(policy.check_address(ip("127.0.0.2"), 6379, kNoHostAddresses) == EgressRefusal::not_allowed);
  CHECK(policy.check_address(ip("127.0.0.1"), 6380, kNoHostAddresses) == EgressRefusal::not_allowed);
  CHECK(policy.check_address(ip("10.1.200.1"), 1, kNoHostAddresses) == EgressRefusal::none);
  CHECK(policy.check_address(ip("8.8.8.8"), 443, kNoHostAddresses) == EgressRefusal::none);
  CHECK(policy.check_address(ip("8.8.8.8"), 80, kNoHostAddresses) == EgressRefusal::not_allowed);
  CHECK(policy.check_address(ip("192.168.1.1"), 443, kNoHostAddresses) == EgressRefusal::forbidden_address);
  CHECK(policy.check_address(ip("169.254.169.254"), 443, kNoHostAddresses) == EgressRefusal::forbidden_address);
  CHECK(policy.check_address(ip("64:ff9b::a9fe:a9fe"), 443, kNoHostAddresses) == EgressRefusal::forbidden_address);
  CHECK(policy.check_address(ip("64:ff9b::8.8.8.8"), 443, kNoHostAddresses) == EgressRefusal::none);
  // dns.lookup has no port: any port of a matching entry.
  CHECK(policy.check_address(ip("127.0.0.1"), std::nullopt, kNoHostAddresses) == EgressRefusal::none);
}

TEST_CASE("nothing by default; layers intersect, so access and tenant caps only narrow") {
  EgressPolicy nothing;
  CHECK(nothing.admits_nothing());
  CHECK(nothing.check_address(ip("8.8.8.8"), 443, kNoHostAddresses) == EgressRefusal::not_allowed);
  std::vector<std::string> warnings;
  auto effective = policy::effective_egress(std::nullopt, nullptr, {}, warnings);
  CHECK(effective.policy.check_name("example.com", 443) == EgressRefusal::not_allowed);

  auto manifest = policy::parse_manifest(R"({"connect": ["10.0.0.0/8:*", "db.internal:5432", "public:443"]})",
                                         policy::Transport::tcp);
  std::vector<EgressRule> cap = {rule("10.2.0.0/16:*"), rule("*.internal:*")};
  effective = policy::effective_egress(manifest, &cap, {}, warnings);
  CHECK(effective.capped_by_tenant);
  CHECK(effective.policy.check_address(ip("10.2.0.5"), 80, kNoHostAddresses) == EgressRefusal::none);
  CHECK(effective.policy.check_address(ip("10.3.0.5"), 80, kNoHostAddresses) == EgressRefusal::not_allowed);
  // public:443 in the manifest, but the cap names no public destination.
  CHECK(effective.policy.check_address(ip("8.8.8.8"), 443, kNoHostAddresses) == EgressRefusal::not_allowed);
  CHECK(effective.policy.check_name("db.internal", 5432) == EgressRefusal::none);
  const IpAddress in_cap[] = {ip("10.2.1.1")};
  CHECK(effective.policy.check_answers("db.internal", 5432, in_cap, kNoHostAddresses) == EgressRefusal::none);
  const IpAddress out_of_cap[] = {ip("10.9.1.1")};
  CHECK(effective.policy.check_answers("db.internal", 5432, out_of_cap, kNoHostAddresses) != EgressRefusal::none);
  // A tenant without a cap gets nothing.
  std::vector<EgressRule> no_cap;
  effective = policy::effective_egress(manifest, &no_cap, {}, warnings);
  CHECK(effective.policy.check_address(ip("10.2.0.5"), 80, kNoHostAddresses) == EgressRefusal::not_allowed);

  effective = policy::effective_egress(manifest, nullptr, {}, warnings);
  auto access = policy::parse_manifest(R"({"connect": ["10.1.0.0/16:6379", "evil.example.com:443", "11.0.0.0/8:22"]})",
                                       policy::Transport::tcp, policy::ManifestKind::module_access);
  auto access_warnings = policy::tighten_egress(effective, access);
  // Only the entry the manifest does not cover is reported (public:443
  // covers any name at 443).
  REQUIRE(access_warnings.size() == 1);
  CHECK(access_warnings[0].find("11.0.0.0/8:22") != std::string::npos);
  CHECK(effective.policy.check_address(ip("11.0.0.1"), 22, kNoHostAddresses) == EgressRefusal::not_allowed);
  CHECK(effective.policy.check_address(ip("10.1.0.1"), 6379, kNoHostAddresses) == EgressRefusal::none);
  CHECK(effective.policy.check_address(ip("10.1.0.1"), 6380, kNoHostAddresses) == EgressRefusal::not_allowed);
  CHECK(effective.policy.check_name("db.internal", 5432) == EgressRefusal::not_allowed);
  // Named in access, but the manifest's public:443 is what admits it: the
  // layers intersect, so it is allowed exactly as far as both allow.
  CHECK(effective.policy.check_name("evil.example.com", 443) == EgressRefusal::none);
}

TEST_CASE("connectLimits: defaults, the config's ceilings, and access only lowering") {
  auto manifest = policy::parse_manifest(R"({"connect": ["public:443"], "connectLimits": {"concurrent": 5000, "perSecond": 10}})",
                                         policy::Transport::tcp);
  std::vector<std::string> warnings;
  policy::EgressDefaults defaults;
  auto effective = policy::effective_egress(manifest, nullptr, defaults, warnings);
  CHECK(effective.concurrent == defaults.max_concurrent);
  CHECK(effective.per_second == 10);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("egress.max_concurrent") != std::string::npos);
  auto access = policy::parse_manifest(R"({"connectLimits": {"concurrent": 2, "perSecond": 20}})", policy::Transport::tcp,
                                       policy::ManifestKind::module_access);
  auto access_warnings = policy::tighten_egress(effective, access);
  CHECK(effective.concurrent == 2);
  CHECK(effective.per_second == 10);
  CHECK(access_warnings.size() == 1);
}

TEST_CASE("manifest errors name the entry by its JSON path") {
  auto error_for = [](const std::string& json) -> std::string {
    try {
      policy::parse_manifest(json, policy::Transport::tcp);
    } catch (const policy::JsonFieldError& e) {
      return e.what();
    }
    return {};
  };
  CHECK(error_for(R"({"connect": ["db:5432", "10.0.0.0/8:1", "x:99999"]})").starts_with("/connect/2: 'x:99999'"));
  CHECK(error_for(R"({"connect": "db:5432"})").starts_with("/connect: must be an array"));
  CHECK(error_for(R"({"connect": [5432]})").starts_with("/connect/0: must be a string"));
  CHECK(error_for(R"({"connectLimits": {"concurrent": 0}})").starts_with("/connectLimits/concurrent"));
  CHECK(error_for(R"({"connectLimits": {"burst": 1}})").starts_with("/connectLimits/burst: unknown field"));
  std::string many = R"({"connect": [)";
  for (int i = 0; i < 257; ++i) many += std::string(i ? "," : "") + "\"public:" + std::to_string(i + 1) + "\"";
  CHECK(error_for(many + "]}").find("more than 256") != std::string::npos);
  // UDP handlers may connect out too.
  CHECK_NOTHROW(policy::parse_manifest(R"({"connect": ["public:443"]})", policy::Transport::udp));
}

TEST_CASE("access coverage warnings: what the manifest already admits is no warning") {
  auto manifest = set({"*.example.com:443", "10.0.0.0/8:*", "public:80"});
  CHECK(manifest.covers(rule("api.example.com:443")));
  CHECK_FALSE(manifest.covers(rule("api.example.com:444")));
  CHECK(manifest.covers(rule("10.1.0.0/16:6379")));
  CHECK_FALSE(manifest.covers(rule("11.0.0.0/8:6379")));
  CHECK(manifest.covers(rule("anything.org:80")));
  CHECK(manifest.covers(rule("*.example.com:443")));
  CHECK_FALSE(manifest.covers(rule("public:443")));
}
