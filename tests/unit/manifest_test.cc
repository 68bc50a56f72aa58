#include "policy/manifest.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policy/json_fields.h"

using policy::JsonFieldError;
using policy::Manifest;
using policy::ManifestKind;
using policy::manifest_file_for;
using policy::parse_manifest;
using policy::RateLimit;
using policy::Transport;

namespace {

// The spec's example (docs: manifest-design), without its `tls` part.
const char* const kSpecExampleWithoutTls = R"({
  "allow": ["10.0.0.0/8", "203.0.113.0/24"],
  "deny": ["10.9.0.0/16"],
  "maxConnections": 256,
  "rateLimit": { "perIp": 20, "window": 10 },
  "idleTimeout": 120
})";

// The spec's example exactly as written.
const char* const kSpecExample = R"({
  "allow": ["10.0.0.0/8", "203.0.113.0/24"],
  "deny": ["10.9.0.0/16"],
  "maxConnections": 256,
  "rateLimit": { "perIp": 20, "window": 10 },
  "tls": { "enabled": true, "cert": "on-demand" },
  "idleTimeout": 120
})";

struct ErrorCase {
  const char* label;
  std::string text;
  std::string path;
  std::string message_mentions;  // a phrase the message must contain
};

// Parses `text`, expecting a JsonFieldError with the given path and message.
void check_error(const ErrorCase& c, Transport transport = Transport::tcp,
                 ManifestKind kind = ManifestKind::sidecar) {
  CAPTURE(std::string(c.label));
  CAPTURE(c.text);
  CAPTURE(std::string(policy::transport_name(transport)));
  CAPTURE(kind == ManifestKind::sidecar ? "sidecar" : "module_access");
  try {
    parse_manifest(c.text, transport, kind);
    FAIL("parse_manifest accepted the document");
  } catch (const JsonFieldError& e) {
    CAPTURE(std::string(e.what()));
    CHECK(e.path() == c.path);
    // what() is "<path>: <message>".
    CHECK(std::string(e.what()).starts_with(c.path + ": "));
    CHECK(std::string(e.what()).find(c.message_mentions) != std::string::npos);
  }
}

std::vector<std::string> texts(const std::vector<policy::Cidr>& blocks) {
  std::vector<std::string> out;
  for (const auto& block : blocks) out.push_back(block.to_string());
  return out;
}

}  // namespace

TEST_CASE("the spec's example without tls is read field by field") {
  Manifest m = parse_manifest(kSpecExampleWithoutTls, Transport::tcp);
  REQUIRE(m.allow.has_value());
  CHECK(texts(*m.allow) == std::vector<std::string>{"10.0.0.0/8", "203.0.113.0/24"});
  CHECK(texts(m.deny) == std::vector<std::string>{"10.9.0.0/16"});
  CHECK(m.max_connections == 256u);
  CHECK_FALSE(m.max_connections_per_ip.has_value());
  CHECK(m.rate_limit == RateLimit{20, 10.0});
  CHECK(m.idle_timeout_s == 120.0);
  CHECK_FALSE(m.tls.enabled);
}

TEST_CASE("the spec's example with on-demand tls needs the names it may issue for") {
  check_error({"spec example", kSpecExample, "/tls/names", "is required"});
  check_error({"tls alone", R"({"tls": {"enabled": true}})", "/tls/cert", "is required"});
}

TEST_CASE("an empty manifest sets nothing") {
  for (Transport transport : {Transport::tcp, Transport::udp}) {
    for (ManifestKind kind : {ManifestKind::sidecar, ManifestKind::module_access}) {
      Manifest m = parse_manifest("{}", transport, kind);
      CHECK_FALSE(m.allow.has_value());
      CHECK(m.deny.empty());
      CHECK_FALSE(m.max_connections.has_value());
      CHECK_FALSE(m.max_connections_per_ip.has_value());
      CHECK_FALSE(m.rate_limit.has_value());
      CHECK_FALSE(m.idle_timeout_s.has_value());
      CHECK_FALSE(m.tls.enabled);
    }
  }
}

TEST_CASE("allow and deny accept IPv4, IPv6, mapped, bare and /0 entries") {
  struct Case {
    const char* entry;
    const char* block;
  };
  const std::vector<Case> cases = {
      {"10.0.0.0/8", "10.0.0.0/8"},           {"203.0.113.4/32", "203.0.113.4/32"},
      {"203.0.113.4", "203.0.113.4/32"},       {"0.0.0.0/0", "0.0.0.0/0"},
      {"2001:db8::/32", "2001:db8::/32"},     {"2001:db8::1", "2001:db8::1/128"},
      {"::/0", "::/0"},                       {"::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"},
      {"2001:DB8::/32", "2001:db8::/32"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.entry));
    for (Transport transport : {Transport::tcp, Transport::udp}) {
      std::string list = std::string("[\"") + c.entry + "\"]";
      Manifest m = parse_manifest(R"({"allow": )" + list + R"(, "deny": )" + list + "}", transport);
      REQUIRE(m.allow.has_value());
      CHECK(texts(*m.allow) == std::vector<std::string>{c.block});
      CHECK(texts(m.deny) == std::vector<std::string>{c.block});
    }
  }
}

TEST_CASE("an empty allow list is present (and so admits nothing); an empty deny list denies nothing") {
  Manifest m = parse_manifest(R"({"allow": [], "deny": []})", Transport::tcp);
  REQUIRE(m.allow.has_value());
  CHECK(m.allow->empty());
  CHECK(m.deny.empty());
}

TEST_CASE("allow and deny keep their entries in order") {
  Manifest m = parse_manifest(R"({"allow": ["2001:db8::/32", "10.0.0.0/8", "192.0.2.1"],
                                  "deny": ["10.9.0.0/16", "10.8.0.0/16"]})",
                              Transport::tcp);
  REQUIRE(m.allow.has_value());
  CHECK(texts(*m.allow) == std::vector<std::string>{"2001:db8::/32", "10.0.0.0/8", "192.0.2.1/32"});
  CHECK(texts(m.deny) == std::vector<std::string>{"10.9.0.0/16", "10.8.0.0/16"});
}

TEST_CASE("maxConnections and maxConnectionsPerIp accept integers from 1 to 1,000,000 on TCP") {
  struct Case {
    const char* value;
    uint32_t expected;
  };
  for (const auto& c : std::vector<Case>{{"1", 1}, {"256", 256}, {"1000000", 1000000}}) {
    CAPTURE(std::string(c.value));
    Manifest m = parse_manifest(std::string(R"({"maxConnections": )") + c.value + "}", Transport::tcp);
    CHECK(m.max_connections == c.expected);
    Manifest per_ip = parse_manifest(std::string(R"({"maxConnectionsPerIp": )") + c.value + "}", Transport::tcp);
    CHECK(per_ip.max_connections_per_ip == c.expected);
    CHECK_FALSE(per_ip.max_connections.has_value());
  }
}

TEST_CASE("rateLimit accepts positive integer perIp and positive seconds, fractions allowed") {
  struct Case {
    const char* text;
    RateLimit expected;
  };
  const std::vector<Case> cases = {
      {R"({"perIp": 20, "window": 10})", {20, 10.0}},
      {R"({"perIp": 1, "window": 1})", {1, 1.0}},
      {R"({"perIp": 1000000, "window": 604800})", {1000000, 604800.0}},
      {R"({"perIp": 5, "window": 0.5})", {5, 0.5}},
      {R"({"perIp": 5, "window": 0.001})", {5, 0.001}},
      {R"({"perIp": 5, "window": 2.0})", {5, 2.0}},
      {R"({"perIp": 5, "window": 1e2})", {5, 100.0}},
      {R"({"window": 3, "perIp": 7})", {7, 3.0}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    for (Transport transport : {Transport::tcp, Transport::udp}) {
      Manifest m = parse_manifest(std::string(R"({"rateLimit": )") + c.text + "}", transport);
      CHECK(m.rate_limit == c.expected);
    }
  }
}

TEST_CASE("idleTimeout accepts positive seconds up to a week, fractions allowed") {
  struct Case {
    const char* value;
    double expected;
  };
  const std::vector<Case> cases = {
      {"120", 120.0}, {"0.5", 0.5}, {"0.001", 0.001}, {"1", 1.0}, {"604800", 604800.0}, {"604800.0", 604800.0},
      {"604799.999", 604799.999}, {"1.5e1", 15.0},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.value));
    for (Transport transport : {Transport::tcp, Transport::udp}) {
      Manifest m = parse_manifest(std::string(R"({"idleTimeout": )") + c.value + "}", transport);
      CHECK(m.idle_timeout_s == c.expected);
    }
  }
}

TEST_CASE("tls with enabled false is accepted on TCP, with or without a cert") {
  for (const char* tls : {R"({"enabled": false})", R"({"enabled": false, "cert": "on-demand"})"}) {
    CAPTURE(std::string(tls));
    Manifest m = parse_manifest(std::string(R"({"tls": )") + tls + "}", Transport::tcp);
    CHECK_FALSE(m.tls.enabled);
  }
}

TEST_CASE("UDP manifests accept allow, deny, rateLimit and idleTimeout") {
  Manifest m = parse_manifest(R"({"allow": ["10.0.0.0/8"], "deny": ["10.9.0.0/16"],
                                  "rateLimit": {"perIp": 100, "window": 1}, "idleTimeout": 30})",
                              Transport::udp);
  REQUIRE(m.allow.has_value());
  CHECK(m.allow->size() == 1);
  CHECK(m.deny.size() == 1);
  CHECK(m.rate_limit == RateLimit{100, 1.0});
  CHECK(m.idle_timeout_s == 30.0);
}

TEST_CASE("TCP-only fields on UDP are errors naming the field") {
  const std::vector<ErrorCase> cases = {
      {"maxConnections", R"({"maxConnections": 10})", "/maxConnections", "TCP handlers only"},
      {"maxConnectionsPerIp", R"({"maxConnectionsPerIp": 10})", "/maxConnectionsPerIp", "TCP handlers only"},
      {"tls disabled", R"({"tls": {"enabled": false}})", "/tls", "TCP handlers only"},
      {"tls enabled", R"({"tls": {"enabled": true}})", "/tls", "TCP handlers only"},
      {"tls empty", R"({"tls": {}})", "/tls", "TCP handlers only"},
      {"maxConnections with a bad value", R"({"maxConnections": 0})", "/maxConnections", "TCP handlers only"},
  };
  for (const auto& c : cases) check_error(c, Transport::udp);
}

TEST_CASE("a module access export reads every field except tls") {
  Manifest m = parse_manifest(R"({"allow": ["10.1.0.0/16"], "deny": ["10.1.2.0/24"], "maxConnections": 10,
                                  "maxConnectionsPerIp": 2, "rateLimit": {"perIp": 5, "window": 1},
                                  "idleTimeout": 30})",
                              Transport::tcp, ManifestKind::module_access);
  REQUIRE(m.allow.has_value());
  CHECK(texts(*m.allow) == std::vector<std::string>{"10.1.0.0/16"});
  CHECK(texts(m.deny) == std::vector<std::string>{"10.1.2.0/24"});
  CHECK(m.max_connections == 10u);
  CHECK(m.max_connections_per_ip == 2u);
  CHECK(m.rate_limit == RateLimit{5, 1.0});
  CHECK(m.idle_timeout_s == 30.0);
}

TEST_CASE("a module access export rejects tls as an unknown field") {
  for (const char* tls : {R"({"enabled": false})", R"({"enabled": true})", "{}", "5"}) {
    check_error({"tls", std::string(R"({"tls": )") + tls + "}", "/tls", "unknown field"}, Transport::tcp,
                ManifestKind::module_access);
  }
}

TEST_CASE("a module access export on UDP refuses the TCP-only caps") {
  check_error({"maxConnections", R"({"maxConnections": 10})", "/maxConnections", "TCP handlers only"},
              Transport::udp, ManifestKind::module_access);
  check_error({"maxConnectionsPerIp", R"({"maxConnectionsPerIp": 1})", "/maxConnectionsPerIp", "TCP handlers only"},
              Transport::udp, ManifestKind::module_access);
}

TEST_CASE("replyRatio and maxReplyRate are read on UDP, in a manifest and in access") {
  for (auto kind : {ManifestKind::sidecar, ManifestKind::module_access}) {
    Manifest m = parse_manifest(R"({"replyRatio": 1, "maxReplyRate": 10000000})", Transport::udp, kind);
    CHECK(m.reply_ratio == 1u);
    CHECK(m.max_reply_rate == 10000000u);
    m = parse_manifest(R"({"replyRatio": 1000, "maxReplyRate": 1})", Transport::udp, kind);
    CHECK(m.reply_ratio == 1000u);
    CHECK(m.max_reply_rate == 1u);
    m = parse_manifest("{}", Transport::udp, kind);
    CHECK_FALSE(m.reply_ratio.has_value());
    CHECK_FALSE(m.max_reply_rate.has_value());
  }
}

TEST_CASE("replyRatio and maxReplyRate errors name the field") {
  const std::vector<ErrorCase> cases = {
      {"ratio zero", R"({"replyRatio": 0})", "/replyRatio", "must be an integer from 1 to 1000"},
      {"ratio too high", R"({"replyRatio": 1001})", "/replyRatio", "must be an integer from 1 to 1000"},
      {"ratio fraction", R"({"replyRatio": 2.5})", "/replyRatio", "must be an integer from 1 to 1000"},
      {"ratio negative", R"({"replyRatio": -3})", "/replyRatio", "must be an integer from 1 to 1000"},
      {"ratio string", R"({"replyRatio": "3"})", "/replyRatio", "must be an integer from 1 to 1000"},
      {"rate zero", R"({"maxReplyRate": 0})", "/maxReplyRate", "must be an integer from 1 to 10000000"},
      {"rate null", R"({"maxReplyRate": null})", "/maxReplyRate", "must be an integer from 1 to 10000000"},
  };
  for (auto kind : {ManifestKind::sidecar, ManifestKind::module_access}) {
    for (const auto& c : cases) check_error(c, Transport::udp, kind);
    check_error({"ratio on tcp", R"({"replyRatio": 3})", "/replyRatio", "applies to UDP handlers only"},
                Transport::tcp, kind);
    check_error({"rate on tcp", R"({"maxReplyRate": 3})", "/maxReplyRate", "applies to UDP handlers only"},
                Transport::tcp, kind);
  }
}

TEST_CASE("unknown fields are errors naming their path") {
  const std::vector<ErrorCase> cases = {
      {"top level", R"({"maxconnections": 5})", "/maxconnections", "unknown field"},
      {"snake case", R"({"rate_limit": {}})", "/rate_limit", "unknown field"},
      {"case matters", R"({"Allow": []})", "/Allow", "unknown field"},
      {"after known fields", R"({"allow": [], "firewall": true})", "/firewall", "unknown field"},
      {"in rateLimit", R"({"rateLimit": {"perIp": 1, "window": 1, "burst": 5}})", "/rateLimit/burst", "unknown field"},
      {"in tls", R"({"tls": {"enabled": false, "keyfile": "k.pem"}})", "/tls/keyfile", "unknown field"},
      {"slash in the key", R"({"a/b": 1})", "/a~1b", "unknown field"},
      {"tilde in the key", R"({"a~b": 1})", "/a~0b", "unknown field"},
      {"nested slash", R"({"rateLimit": {"per/Ip": 1}})", "/rateLimit/per~1Ip", "unknown field"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("allow and deny errors name the list or the entry") {
  const std::vector<ErrorCase> cases = {
      {"allow string", R"({"allow": "10.0.0.0/8"})", "/allow", "must be an array of CIDR strings"},
      {"allow object", R"({"allow": {}})", "/allow", "must be an array of CIDR strings"},
      {"allow null", R"({"allow": null})", "/allow", "must be an array of CIDR strings"},
      {"deny number", R"({"deny": 10})", "/deny", "must be an array of CIDR strings"},
      {"allow number entry", R"({"allow": [10]})", "/allow/0", "must be a string"},
      {"allow null entry", R"({"allow": ["10.0.0.0/8", null]})", "/allow/1", "must be a string"},
      {"allow nested list", R"({"allow": [["10.0.0.0/8"]]})", "/allow/0", "must be a string"},
      {"deny object entry", R"({"deny": [{}]})", "/deny/0", "must be a string"},
      {"not an address", R"({"allow": ["10.0.0.0/8", "192.0.2.1", "example.com"]})", "/allow/2",
       "not an IPv4 or IPv6 address"},
      {"empty entry", R"({"deny": [""]})", "/deny/0", "not an IPv4 or IPv6 address"},
      {"bad prefix", R"({"allow": ["10.0.0.0/33"]})", "/allow/0", "invalid prefix length"},
      {"leading zero prefix", R"({"deny": ["10.0.0.0/08"]})", "/deny/0", "invalid prefix length"},
      {"v6 prefix", R"({"deny": ["::/129"]})", "/deny/0", "invalid prefix length"},
      {"host bits, allow", R"({"allow": ["10.0.0.0/8", "203.0.113.0/24", "10.1.2.3/8"]})", "/allow/2",
       "did you mean 10.0.0.0/8?"},
      {"host bits, deny", R"({"deny": ["2001:db8::1/32"]})", "/deny/0", "did you mean 2001:db8::/32?"},
  };
  for (const auto& c : cases) check_error(c);
}

namespace {

// A JSON list of `count` distinct IPv4 addresses (10.0.x.y).
std::string address_list(size_t count) {
  std::string list = "[";
  for (size_t i = 0; i < count; ++i) {
    list += (i ? ", \"10.0." : "\"10.0.") + std::to_string(i / 256) + "." + std::to_string(i % 256) + "\"";
  }
  return list + "]";
}

}  // namespace

TEST_CASE("quadratic policy check: allow and deny lists hold at most 256 entries") {
  for (auto kind : {ManifestKind::sidecar, ManifestKind::module_access}) {
    for (auto transport : {Transport::tcp, Transport::udp}) {
      for (const char* field : {"allow", "deny"}) {
        std::string at_bound = std::string("{\"") + field + "\": " + address_list(256) + "}";
        Manifest m = parse_manifest(at_bound, transport, kind);
        CHECK((std::string(field) == "allow" ? m.allow->size() : m.deny.size()) == 256);
        check_error({field, std::string("{\"") + field + "\": " + address_list(257) + "}", std::string("/") + field,
                     "has more than 256 entries"},
                    transport, kind);
      }
    }
  }
}

TEST_CASE("maxConnections and maxConnectionsPerIp must be integers from 1 to 1,000,000") {
  const std::string range = "must be an integer from 1 to 1000000";
  for (const char* field : {"maxConnections", "maxConnectionsPerIp"}) {
    const std::string path = std::string("/") + field;
    for (const char* value : {"0", "-1", "1000001", "4294967297", "18446744073709551615", "18446744073709551616",
                              "-9223372036854775808", "2.5", "256.0", "1e3", "\"256\"", "true", "null", "[]", "{}"}) {
      check_error({value, std::string("{\"") + field + "\": " + value + "}", path, range});
    }
  }
}

TEST_CASE("rateLimit must be an object with both perIp and window") {
  const std::vector<ErrorCase> cases = {
      {"number", R"({"rateLimit": 20})", "/rateLimit", "must be an object"},
      {"array", R"({"rateLimit": [20, 10]})", "/rateLimit", "must be an object"},
      {"null", R"({"rateLimit": null})", "/rateLimit", "must be an object"},
      {"string", R"({"rateLimit": "20/10s"})", "/rateLimit", "must be an object"},
      {"empty", R"({"rateLimit": {}})", "/rateLimit/perIp", "is required"},
      {"no perIp", R"({"rateLimit": {"window": 10}})", "/rateLimit/perIp", "is required"},
      {"no window", R"({"rateLimit": {"perIp": 20}})", "/rateLimit/window", "is required"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("rateLimit.perIp must be an integer from 1 to 1,000,000") {
  for (const char* value : {"0", "-1", "1000001", "1.5", "20.0", "\"20\"", "true", "null", "[20]"}) {
    check_error({value, std::string(R"({"rateLimit": {"perIp": )") + value + R"(, "window": 10}})",
                 "/rateLimit/perIp", "must be an integer from 1 to 1000000"});
  }
}

TEST_CASE("rateLimit.window must be positive seconds up to a week") {
  for (const char* value : {"\"10\"", "true", "null", "[]", "{}"}) {
    check_error({value, std::string(R"({"rateLimit": {"perIp": 1, "window": )") + value + "}}", "/rateLimit/window",
                 "must be a number of seconds"});
  }
  for (const char* value : {"0", "0.0", "-0", "-1", "-0.5", "604800.5", "604801", "1e9"}) {
    check_error({value, std::string(R"({"rateLimit": {"perIp": 1, "window": )") + value + "}}", "/rateLimit/window",
                 "more than 0 and at most 604800 seconds"});
  }
}

TEST_CASE("idleTimeout must be positive seconds up to a week") {
  for (const char* value : {"\"120\"", "false", "null", "[120]", "{}"}) {
    check_error({value, std::string(R"({"idleTimeout": )") + value + "}", "/idleTimeout", "must be a number of seconds"});
  }
  for (const char* value : {"0", "-0", "0.0", "-1", "-120.5", "604800.001", "604801", "1e300"}) {
    check_error({value, std::string(R"({"idleTimeout": )") + value + "}", "/idleTimeout",
                 "more than 0 and at most 604800 seconds"});
  }
}

TEST_CASE("tls must be an object with a boolean enabled") {
  const std::vector<ErrorCase> cases = {
      {"true", R"({"tls": true})", "/tls", "must be an object"},
      {"null", R"({"tls": null})", "/tls", "must be an object"},
      {"string", R"({"tls": "on"})", "/tls", "must be an object"},
      {"empty", R"({"tls": {}})", "/tls/enabled", "is required"},
      {"cert only", R"({"tls": {"cert": "on-demand"}})", "/tls/enabled", "is required"},
      {"enabled string", R"({"tls": {"enabled": "false"}})", "/tls/enabled", "must be true or false"},
      {"enabled number", R"({"tls": {"enabled": 0}})", "/tls/enabled", "must be true or false"},
      {"enabled null", R"({"tls": {"enabled": null}})", "/tls/enabled", "must be true or false"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("a tls that is not an object on UDP is reported as not an object") {
  // The shape is checked before the transport.
  check_error({"tls number on udp", R"({"tls": 1})", "/tls", "must be an object"}, Transport::udp);
}

TEST_CASE("a document that is not a JSON object is an error at the root") {
  for (const char* text : {"[]", "[{}]", "42", "\"allow\"", "null", "true"}) {
    check_error({"non-object", text, "/", "must be an object"});
  }
}

TEST_CASE("syntax errors are reported at the root with line and column") {
  const std::vector<ErrorCase> cases = {
      {"empty input", "", "/", "line 1, column 1"},
      {"trailing comma", R"({"allow": ["10.0.0.0/8",]})", "/", "line 1, column 25"},
      {"comment", "{\n// lockdown\n}", "/", "line 2, column 1"},
      {"single quotes", "{'allow': []}", "/", "line 1, column 2"},
      {"trailing garbage", "{} {}", "/", "line 1, column 4"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("number overflow: a number too large for a double is an error at the root, in a manifest and in access") {
  // Found by the manifest fuzz target: the parser's out_of_range escaped
  // every caller, which catches JsonFieldError only (a worker's access
  // export reaches the root supervisor this way).
  for (auto kind : {ManifestKind::sidecar, ManifestKind::module_access}) {
    for (const char* text : {R"({"idleTimeout": 1e400})", R"({"rateLimit": {"perIp": 1, "window": -1e999}})",
                             R"({"x": 4444.44e44444444})"}) {
      check_error({"overflow", text, "/", "number overflow"}, Transport::udp, kind);
    }
  }
}

TEST_CASE("a manifest over 64 KiB is refused before parsing") {
  std::string text = "{}";
  text.resize(policy::kMaxManifestBytes, ' ');
  CHECK_NOTHROW(parse_manifest(text, Transport::tcp));
  text.push_back(' ');
  check_error({"one byte over", text, "/", "larger than 65536 bytes"});
  // A list of 256 entries padded to just under the limit is fine; a longer
  // list that fits in the size is refused for its length.
  std::string list = R"({"allow": )" + address_list(256) + "}";
  list.resize(policy::kMaxManifestBytes, ' ');
  Manifest m = parse_manifest(list, Transport::tcp);
  REQUIRE(m.allow.has_value());
  CHECK(m.allow->size() == 256);
  list = R"({"allow": [)";
  for (int i = 0; list.size() < policy::kMaxManifestBytes - 100; ++i) {
    if (i) list += ", ";
    list += "\"10." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".0/24\"";
  }
  list += "]}";
  REQUIRE(list.size() <= policy::kMaxManifestBytes);
  check_error({"over 256 entries", list, "/allow", "has more than 256 entries"});
}

TEST_CASE("manifest_file_for swaps the handler's .js for .json") {
  struct Case {
    const char* handler;
    const char* manifest;
  };
  const std::vector<Case> cases = {
      {"echo.tcp.7000.port.js", "echo.tcp.7000.port.json"},
      {"dns.udp.53.port.js", "dns.udp.53.port.json"},
      {"a.js.tcp.1.port.js", "a.js.tcp.1.port.json"},
      {"sub/dir/echo.tcp.7000.port.js", "sub/dir/echo.tcp.7000.port.json"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.handler));
    CHECK(manifest_file_for(c.handler) == c.manifest);
  }
}

TEST_CASE("a manifest file name is not itself an entry point") {
  for (const char* handler : {"echo.tcp.7000.port.js", "dns.udp.53.port.js"}) {
    auto handler_verdict = policy::classify_filename(handler);
    REQUIRE(handler_verdict.kind == policy::FilenameVerdict::Kind::entry_point);
    auto verdict = policy::classify_filename(manifest_file_for(handler));
    CHECK(verdict.kind == policy::FilenameVerdict::Kind::not_an_attempt);
  }
}

TEST_CASE("an entry with an embedded NUL is an error naming the entry") {
  check_error({"NUL in allow", R"({"allow": ["10.0.0.0\u0000junk/8"]})", "/allow/0", "not an IPv4 or IPv6 address"});
  check_error({"NUL in deny", R"({"deny": ["192.0.2.1\u0000"]})", "/deny/0", "not an IPv4 or IPv6 address"});
}

TEST_CASE("tls from files, several pairs, or on demand, with options") {
  Manifest one = parse_manifest(R"({"tls": {"enabled": true, "cert": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}})",
                                Transport::tcp);
  REQUIRE(one.tls.enabled);
  CHECK(one.tls.certs == std::vector<policy::TlsCertFiles>{{"/etc/ssl/a.pem", "/etc/ssl/a.key", "/tls"}});
  CHECK(one.tls.min_version == "1.2");
  CHECK(one.tls.handshake_timeout_ms == 10000);
  CHECK_FALSE(one.tls.on_demand);
  Manifest many = parse_manifest(R"({"tls": {"enabled": true, "certs": [{"cert": "/a.pem", "key": "/a.key"},
      {"cert": "/b.pem", "key": "/b.key"}], "minVersion": "1.3", "alpn": ["h2", "http/1.1"],
      "clientCa": "/ca.pem", "clientAuth": "optional", "handshakeTimeout": 2.5}})", Transport::tcp);
  CHECK(many.tls.certs.size() == 2);
  CHECK(many.tls.min_version == "1.3");
  CHECK(many.tls.alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(many.tls.client_ca == "/ca.pem");
  CHECK_FALSE(many.tls.client_cert_required);
  CHECK(many.tls.handshake_timeout_ms == 2500);
  Manifest mtls = parse_manifest(R"({"tls": {"enabled": true, "cert": "/a.pem", "key": "/a.key", "clientCa": "/ca.pem"}})",
                                 Transport::tcp);
  CHECK(mtls.tls.client_cert_required);
  Manifest demand = parse_manifest(R"({"tls": {"enabled": true, "cert": "on-demand", "names": ["example.com", "*.example.org"]}})",
                                   Transport::tcp);
  CHECK(demand.tls.on_demand);
  CHECK(demand.tls.names == std::vector<std::string>{"example.com", "*.example.org"});
}

TEST_CASE("tls errors name their field") {
  const std::vector<ErrorCase> cases = {
      {"relative cert", R"({"tls": {"enabled": true, "cert": "a.pem", "key": "/a.key"}})", "/tls/cert", "absolute path"},
      {"cert without key", R"({"tls": {"enabled": true, "cert": "/a.pem"}})", "/tls/key", "is required"},
      {"cert and certs", R"({"tls": {"enabled": true, "cert": "/a.pem", "key": "/k", "certs": []}})", "/tls/certs", "either"},
      {"empty certs", R"({"tls": {"enabled": true, "certs": []}})", "/tls/certs", "non-empty"},
      {"pair without key", R"({"tls": {"enabled": true, "certs": [{"cert": "/a.pem"}]}})", "/tls/certs/0/key", "is required"},
      {"unknown pair field", R"({"tls": {"enabled": true, "certs": [{"cert": "/a", "key": "/b", "x": 1}]}})", "/tls/certs/0/x", "unknown"},
      {"on-demand with key", R"({"tls": {"enabled": true, "cert": "on-demand", "key": "/k", "names": ["a.b"]}})", "/tls/key", "on-demand"},
      {"empty names", R"({"tls": {"enabled": true, "cert": "on-demand", "names": []}})", "/tls/names", "non-empty"},
      {"bad name", R"({"tls": {"enabled": true, "cert": "on-demand", "names": ["Exa mple"]}})", "/tls/names/0", "DNS name"},
      {"deep wildcard", R"({"tls": {"enabled": true, "cert": "on-demand", "names": ["a.*.com"]}})", "/tls/names/0", "DNS name"},
      {"names with files", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "names": ["a.b"]}})", "/tls/names", "on-demand"},
      {"tls 1.0", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "minVersion": "1.0"}})", "/tls/minVersion", "refused"},
      {"tls 1.1", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "minVersion": "1.1"}})", "/tls/minVersion", "refused"},
      {"tls 2", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "minVersion": "2"}})", "/tls/minVersion", "1.2"},
      {"empty alpn", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "alpn": []}})", "/tls/alpn", "1 to 16"},
      {"empty protocol", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "alpn": [""]}})", "/tls/alpn/0", "1 to 255"},
      {"auth without ca", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "clientAuth": "required"}})", "/tls/clientAuth", "clientCa"},
      {"bad auth", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "clientCa": "/c", "clientAuth": "maybe"}})", "/tls/clientAuth", "required"},
      {"zero timeout", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "handshakeTimeout": 0}})", "/tls/handshakeTimeout", "more than 0"},
      {"unknown tls field", R"({"tls": {"enabled": true, "cert": "/a", "key": "/b", "ciphers": "ALL"}})", "/tls/ciphers", "unknown"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("on-demand names match exactly or one label under a wildcard") {
  const std::vector<std::string> allowed = {"example.com", "*.example.org"};
  CHECK(policy::tls_name_allowed(allowed, "example.com"));
  CHECK(policy::tls_name_allowed(allowed, "www.example.org"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, "example.org"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, "a.b.example.org"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, "www.example.com"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, "evilexample.org"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, ""));
  // Nothing but a host name reaches a certificate (no SAN syntax smuggled in).
  CHECK_FALSE(policy::tls_name_allowed(allowed, "x,DNS:localhost.example.org"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, "localhost,email:a@b.example.org"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, std::string("a\0b.example.org", 15)));
  CHECK_FALSE(policy::tls_name_allowed(allowed, "WWW.example.org"));
  CHECK_FALSE(policy::tls_name_allowed(allowed, "*.example.org"));
  CHECK_FALSE(policy::tls_name_allowed({"*.org"}, std::string(300, 'a') + ".org"));
}

TEST_CASE("proxyProtocol: trusted sources, allowDirect and headerTimeout, with defaults") {
  Manifest m = parse_manifest(R"({"proxyProtocol": {"trusted": ["10.0.0.0/8", "2001:db8::1"]}})", Transport::tcp);
  REQUIRE(m.proxy_protocol.has_value());
  CHECK(texts(m.proxy_protocol->trusted) == std::vector<std::string>{"10.0.0.0/8", "2001:db8::1/128"});
  CHECK_FALSE(m.proxy_protocol->allow_direct);
  CHECK(m.proxy_protocol->header_timeout_s == policy::kDefaultProxyHeaderTimeout);

  m = parse_manifest(R"({"allow": ["192.0.2.0/24"],
                         "proxyProtocol": {"trusted": ["127.0.0.1"], "allowDirect": true, "headerTimeout": 0.5}})",
                     Transport::tcp);
  REQUIRE(m.proxy_protocol.has_value());
  CHECK(m.proxy_protocol->allow_direct);
  CHECK(m.proxy_protocol->header_timeout_s == 0.5);
  CHECK_FALSE(parse_manifest("{}", Transport::tcp).proxy_protocol.has_value());
}

TEST_CASE("proxyProtocol errors name the file's field") {
  const std::vector<ErrorCase> cases = {
      {"not an object", R"({"proxyProtocol": ["10.0.0.0/8"]})", "/proxyProtocol", "must be an object"},
      {"no trusted", R"({"proxyProtocol": {}})", "/proxyProtocol/trusted", "is required"},
      {"empty trusted", R"({"proxyProtocol": {"trusted": []}})", "/proxyProtocol/trusted", "at least one"},
      {"trusted not a list", R"({"proxyProtocol": {"trusted": "10.0.0.0/8"}})", "/proxyProtocol/trusted",
       "array of CIDR strings"},
      {"not a CIDR", R"({"proxyProtocol": {"trusted": ["10.0.0.0/8", "::1", "balancer"]}})",
       "/proxyProtocol/trusted/2", "balancer"},
      {"host bits", R"({"proxyProtocol": {"trusted": ["10.1.2.3/8"]}})", "/proxyProtocol/trusted/0", "host bits"},
      {"allowDirect not a boolean", R"({"proxyProtocol": {"trusted": ["::1"], "allowDirect": 1}})",
       "/proxyProtocol/allowDirect", "true or false"},
      {"headerTimeout zero", R"({"proxyProtocol": {"trusted": ["::1"], "headerTimeout": 0}})",
       "/proxyProtocol/headerTimeout", "at most 60"},
      {"headerTimeout too long", R"({"proxyProtocol": {"trusted": ["::1"], "headerTimeout": 61}})",
       "/proxyProtocol/headerTimeout", "at most 60"},
      {"headerTimeout a string", R"({"proxyProtocol": {"trusted": ["::1"], "headerTimeout": "3"}})",
       "/proxyProtocol/headerTimeout", "number of seconds"},
      {"unknown field", R"({"proxyProtocol": {"trusted": ["::1"], "version": 2}})", "/proxyProtocol/version",
       "unknown field"},
  };
  for (const auto& c : cases) check_error(c);
  std::string long_list = R"({"proxyProtocol": {"trusted": [)";
  for (int i = 0; i < 257; ++i) long_list += (i ? ",\"10.0." : "\"10.0.") + std::to_string(i / 256) + "." + std::to_string(i % 256) + "\"";
  check_error({"too many", long_list + "]}}", "/proxyProtocol/trusted", "more than 256"});
}

TEST_CASE("proxyProtocol is TCP only and not for a module's access") {
  check_error({"on UDP", R"({"proxyProtocol": {"trusted": ["10.0.0.0/8"]}})", "/proxyProtocol", "TCP handlers only"},
              Transport::udp);
  check_error({"in access", R"({"proxyProtocol": {"trusted": ["10.0.0.0/8"]}})", "/proxyProtocol", "unknown field"},
              Transport::tcp, ManifestKind::module_access);
}
