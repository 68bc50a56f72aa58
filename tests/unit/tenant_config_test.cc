#include "policy/tenant_config.h"

#include <doctest/doctest.h>

#include "policy/broker_config.h"
#include "policy/json_fields.h"

namespace {

std::string error_of(const std::string& json) {
  try {
    policy::parse_broker_config(json);
  } catch (const policy::JsonFieldError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("tenant names are safe in paths, logs, key prefixes and cgroup names") {
  for (const char* good : {"alice", "a", "team-2", "bob_the_builder", "x234567890123456789012345678901"}) {
    CAPTURE(std::string(good));
    CHECK(policy::tenant_name_valid(good));
  }
  for (const char* bad : {"", "Alice", "1st", "-x", "a.b", "a/b", "a:b", "a b", "é", "x23456789012345678901234567890123"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(policy::tenant_name_valid(bad));
  }
}

TEST_CASE("the issue's example reads field by field, with defaults for what it leaves out") {
  auto config = policy::parse_broker_config(R"({"tenants": {
    "alice": {"handlers": "/srv/portbroker/alice", "ports": ["20000-20999", 8443], "user": "alice",
              "limits": {"handlers": 20, "connections": 5000, "memory_mb": 2048, "store_mb": 64},
              "tls": {"key_dirs": ["/srv/portbroker/alice-keys"], "domains": ["alice.example.com", "*.alice.example.com"]}},
    "bob": {"handlers": "/srv/portbroker/bob", "ports": ["21000-21099"]}}})");
  REQUIRE(config.tenants.size() == 2);
  const auto& alice = config.tenants[0];
  CHECK(alice.name == "alice");
  CHECK(alice.ports == std::vector<policy::PortRange>{{20000, 20999}, {8443, 8443}});
  CHECK(alice.ports_text() == "20000-20999, 8443");
  CHECK(alice.allows_port(20500));
  CHECK(alice.allows_port(8443));
  CHECK_FALSE(alice.allows_port(21000));
  CHECK(alice.user == "alice");
  CHECK(alice.limits.handlers == 20);
  CHECK(alice.limits.pids == policy::TenantLimits{}.pids);
  CHECK(alice.tls.domains.size() == 2);
  const auto& bob = config.tenants[1];
  CHECK_FALSE(bob.user);
  CHECK(bob.limits == policy::TenantLimits{});
  CHECK(policy::parse_broker_config("{}").tenants.empty());
}

TEST_CASE("bad tenant config fails closed with the tenant and field named") {
  struct Case {
    const char* json;
    const char* field;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"tenants": {"Alice": {"handlers": "/srv/a", "ports": [1]}}})", "/tenants/Alice", "lower-case"},
           Case{R"({"tenants": {"a": {"ports": [1]}}})", "/tenants/a/handlers", "is required"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a"}}})", "/tenants/a/ports", "is required"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1], "color": "red"}}})", "/tenants/a/color", "unknown"},
           Case{R"({"tenants": {"a": {"handlers": "srv/a", "ports": [1]}}})", "/tenants/a/handlers", "absolute"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": ["2000-1000"]}}})", "/tenants/a/ports/0", "empty range"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": ["0-10"]}}})", "/tenants/a/ports/0", "not a port"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [70000]}}})", "/tenants/a/ports/0", "65535"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": ["x"]}}})", "/tenants/a/ports/0", "not a port"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": []}}})", "/tenants/a/ports", "1 to"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": ["1-10", 5]}}})", "/tenants/a/ports/1", "overlaps 1-10"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": ["100-200"]}, "b": {"handlers": "/srv/b", "ports": [150]}}})",
                "/tenants/b/ports", "overlap tenant a's 100-200"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1]}, "b": {"handlers": "/srv/a/b", "ports": [2]}}})",
                "/tenants/b/handlers", "overlaps tenant a's folder"},
           Case{R"({"tenants": {"a": {"handlers": "/etc/portbroker/handlers/a", "ports": [1]}}})", "/tenants/a/handlers",
                "operator's handlers folder"},
           Case{R"({"tenants": {"a": {"handlers": "/var/lib/portbroker/a", "ports": [1]}}})", "/tenants/a/handlers", "state_dir"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1], "user": "root"}}})", "/tenants/a/user", "unprivileged"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1], "limits": {"memory_mb": 1}}}})",
                "/tenants/a/limits/memory_mb", "64"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1], "limits": {"cpu": 1}}}})", "/tenants/a/limits/cpu", "unknown"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1], "tls": {"domains": ["*.com"]}}}})",
                "/tenants/a/tls/domains/0", "two labels"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1], "tls": {"key_dirs": ["/srv/a/keys"]}}}})",
                "/tenants/a/tls/key_dirs/0", "handlers folder"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1], "tls": {"key_dirs": ["/var/lib/portbroker/k"]}}}})",
                "/tenants/a/tls/key_dirs/0", "state_dir"},
           Case{R"({"tenants": {"a": {"handlers": "/srv/a", "ports": [1]}, "b": {"handlers": "/srv/b", "ports": [2], "tls": {"key_dirs": ["/srv/a"]}}}})",
                "/tenants/b/tls", "overlaps tenant a's folder"},
           Case{R"({"tls": {"key_dirs": ["/srv/a/keys"]}, "tenants": {"a": {"handlers": "/srv/a", "ports": [1]}}})",
                "/tls/key_dirs/0", "tenant a's folder"},
           Case{R"({"tenants": []})", "/tenants", "object"},
       }) {
    CAPTURE(std::string(c.json));
    std::string error = error_of(c.json);
    CHECK(error.find(std::string(c.field) + ":") == 0);
    CHECK(error.find(c.message) != std::string::npos);
  }
}
