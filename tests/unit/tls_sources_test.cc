#include <doctest/doctest.h>

#include "policy/broker_config.h"
#include "policy/json_fields.h"
#include "policy/manifest.h"
#include "policy/tls_settings.h"

using policy::JsonFieldError;

namespace {

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const JsonFieldError& e) {
    return e.what();
  }
  return {};
}

policy::TlsSettings tls(const char* json) {
  return policy::parse_manifest(std::string(R"({"tls": )") + json + "}", policy::Transport::tcp).tls;
}

}  // namespace

TEST_CASE("paths are compared as paths, not as strings") {
  CHECK(policy::path_within("/etc/tls/a.pem", "/etc/tls"));
  CHECK_FALSE(policy::path_within("/etc/tls-other/a.pem", "/etc/tls"));
  CHECK(policy::path_within("/etc/tls", "/etc/tls"));
  CHECK(policy::path_within("/anything", "/"));
  CHECK(policy::key_dir_of("/etc/tls/sub/a.key", {"/srv", "/etc/tls"}) == "/etc/tls");
  CHECK(policy::key_dir_of("/etc/tls", {"/etc/tls"}).empty());
  for (const char* bad : {"", "relative", "/a/../b", "/a/./b", "/a//b", "/a/", "/a/.."}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(policy::normal_absolute_path(bad));
  }
  CHECK(policy::normal_absolute_path("/etc/portbroker/tls"));
}

TEST_CASE("on-demand name patterns refuse a wildcard over a single label") {
  CHECK(policy::tls_name_pattern("example.com"));
  CHECK(policy::tls_name_pattern("*.example.com"));
  CHECK(policy::tls_name_pattern("localhost"));
  CHECK_FALSE(policy::tls_name_pattern("*.com"));
  CHECK_FALSE(policy::tls_name_pattern("*"));
  CHECK_FALSE(policy::tls_name_pattern("*.*.example.com"));
  CHECK(error_of([] { tls(R"({"enabled": true, "cert": "on-demand", "names": ["*.com"]})"); }).find("/tls/names/0") == 0);
}

TEST_CASE("manifest key files must lie in a key directory, and the error names the field") {
  policy::TlsSources sources{{"/etc/portbroker/tls"}, {"example.com", "*.example.com"}};
  CHECK(error_of([&] {
          policy::check_tls_sources(tls(R"({"enabled": true, "cert": "/etc/portbroker/tls/a.pem",
                                           "key": "/etc/portbroker/tls/a.key"})"), sources);
        }).empty());
  CHECK(error_of([&] {
          policy::check_tls_sources(tls(R"({"enabled": true, "cert": "/etc/portbroker/tls/a.pem",
                                           "key": "/var/lib/portbroker/ca/ca.key"})"), sources);
        }).find("/tls/key: '/var/lib/portbroker/ca/ca.key' is outside the key directories") == 0);
  CHECK(error_of([&] {
          policy::check_tls_sources(tls(R"({"enabled": true, "certs": [
              {"cert": "/etc/portbroker/tls/a.pem", "key": "/etc/portbroker/tls/a.key"},
              {"cert": "/etc/ssl/b.pem", "key": "/etc/portbroker/tls/b.key"}]})"), sources);
        }).find("/tls/certs/1/cert:") == 0);
  CHECK(error_of([&] {
          policy::check_tls_sources(tls(R"({"enabled": true, "cert": "/etc/portbroker/tls/a.pem",
              "key": "/etc/portbroker/tls/a.key", "clientCa": "/etc/ssl/ca.pem"})"), sources);
        }).find("/tls/clientCa:") == 0);
  // ".." is refused when the manifest is read, so a path cannot walk out.
  CHECK(error_of([] { tls(R"({"enabled": true, "cert": "/etc/portbroker/tls/../../../var/lib/x.pem", "key": "/k"})"); })
            .find("/tls/cert:") == 0);
  // With no key directories configured, no manifest may name a file.
  CHECK(error_of([&] {
          policy::check_tls_sources(tls(R"({"enabled": true, "cert": "/etc/portbroker/tls/a.pem",
                                           "key": "/etc/portbroker/tls/a.key"})"), policy::TlsSources{});
        }).find("none are configured") != std::string::npos);
}

TEST_CASE("on-demand names must fall within the operator's domains") {
  policy::TlsSources sources{{}, {"example.com", "*.example.com"}};
  auto check = [&](const char* names) {
    return error_of([&] {
      policy::check_tls_sources(tls((std::string(R"({"enabled": true, "cert": "on-demand", "names": )") + names + "}").c_str()),
                                sources);
    });
  };
  CHECK(check(R"(["example.com", "www.example.com", "*.example.com"])").empty());
  CHECK(check(R"(["a.b.example.com"])").find("/tls/names/0") == 0);
  CHECK(check(R"(["example.com", "*.b.example.com"])").find("/tls/names/1") == 0);
  CHECK(check(R"(["evil.test"])").find("not among the names") != std::string::npos);
  CHECK(error_of([] {
          policy::check_tls_sources(tls(R"({"enabled": true, "cert": "on-demand", "names": ["example.com"]})"),
                                    policy::TlsSources{});
        }).find("/tls/names/0") == 0);
}

TEST_CASE("the broker config's tls section") {
  auto config = policy::parse_broker_config(
      R"({"tls": {"key_dirs": ["/etc/portbroker/tls", "/srv/keys"], "domains": ["example.com", "*.example.com"]}})");
  CHECK(config.tls.key_dirs == std::vector<std::string>{"/etc/portbroker/tls", "/srv/keys"});
  CHECK(config.tls.domains.size() == 2);
  struct Case {
    const char* json;
    const char* field;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"tls": {"key_dirs": ["/var/lib/portbroker"]}})", "/tls/key_dirs/0", "overlaps state_dir"},
           Case{R"({"tls": {"key_dirs": ["/var/lib/portbroker/ca"]}})", "/tls/key_dirs/0", "overlaps state_dir"},
           Case{R"({"tls": {"key_dirs": ["/var"]}})", "/tls/key_dirs/0", "overlaps state_dir"},
           Case{R"({"state_dir": "/srv/state", "tls": {"key_dirs": ["/srv"]}})", "/tls/key_dirs/0", "overlaps state_dir"},
           Case{R"({"tls": {"key_dirs": ["/etc/portbroker/handlers/keys"]}})", "/tls/key_dirs/0", "handlers folder"},
           Case{R"({"tls": {"key_dirs": ["/etc/portbroker"]}})", "/tls/key_dirs/0", "handlers folder"},
           Case{R"({"tls": {"key_dirs": ["keys"]}})", "/tls/key_dirs/0", "absolute path"},
           Case{R"({"tls": {"key_dirs": ["/etc/tls/../x"]}})", "/tls/key_dirs/0", "plain absolute path"},
           Case{R"({"tls": {"domains": ["*.com"]}})", "/tls/domains/0", "two labels"},
           Case{R"({"tls": {"domains": ["Example.com"]}})", "/tls/domains/0", "lower-case"},
           Case{R"({"tls": {"keydirs": []}})", "/tls/keydirs", "unknown"},
       }) {
    CAPTURE(std::string(c.json));
    std::string error = error_of([&] { policy::parse_broker_config(c.json); });
    CHECK(error.find(std::string(c.field) + ":") == 0);
    CHECK(error.find(c.message) != std::string::npos);
  }
}
