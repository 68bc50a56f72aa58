// The `store` section of the broker config and the store URL grammar.
#include "policy/store_backend.h"

#include <doctest/doctest.h>

#include <string>

#include "policy/broker_config.h"
#include "policy/json_fields.h"

using policy::StoreBackendConfig;

namespace {

StoreBackendConfig parse(const std::string& store_json) {
  return policy::parse_broker_config(R"({"store": )" + store_json + "}").store;
}

// The JsonFieldError's whole text ("<path>: <message>").
std::string error_of(const std::string& store_json) {
  try {
    parse(store_json);
  } catch (const policy::JsonFieldError& e) {
    return e.what();
  }
  return "accepted";
}

policy::StoreUrl url(const std::string& text) {
  std::string error;
  auto parsed = policy::parse_store_url(text, error);
  INFO(text << ": " << error);
  REQUIRE(parsed.has_value());
  return *parsed;
}

std::string url_error(const std::string& text) {
  std::string error;
  auto parsed = policy::parse_store_url(text, error);
  return parsed ? "accepted" : error;
}

}  // namespace

TEST_CASE("without a store section the embedded store serves") {
  auto config = policy::parse_broker_config("{}");
  CHECK(config.store.kind == StoreBackendConfig::Kind::embedded);
  CHECK_FALSE(config.store.external());
}

TEST_CASE("redis:// URLs: host, port, user, database") {
  auto plain = url("redis://10.0.0.5");
  CHECK(plain.address.host == "10.0.0.5");
  CHECK(plain.address.port == 6379);
  CHECK_FALSE(plain.tls);
  CHECK(plain.user.empty());
  CHECK(plain.database == 0);

  auto full = url("rediss://portbroker@redis.example.com:6380/3");
  CHECK(full.tls);
  CHECK(full.user == "portbroker");
  CHECK(full.address.host == "redis.example.com");
  CHECK(full.address.port == 6380);
  CHECK(full.database == 3);

  auto v6 = url("redis://[2001:db8::1]:7000/");
  CHECK(v6.address.host == "2001:db8::1");
  CHECK(v6.address.port == 7000);
  CHECK(v6.address.to_string() == "[2001:db8::1]:7000");

  // %-escapes in the user name are decoded, and encoded again on the way out.
  auto escaped = url("redis://us%40er@h:1");
  CHECK(escaped.user == "us@er");
  CHECK(escaped.to_string() == "redis://us%40er@h:1");
}

TEST_CASE("unix:// URLs: an absolute path, an optional user and database") {
  auto socket = url("unix:///run/redis/redis.sock");
  CHECK(socket.address.is_unix());
  CHECK(socket.address.unix_path == "/run/redis/redis.sock");
  CHECK(socket.database == 0);
  auto with_db = url("unix://pb@/run/redis.sock?db=2");
  CHECK(with_db.user == "pb");
  CHECK(with_db.database == 2);
  CHECK(with_db.to_string() == "unix://pb@/run/redis.sock?db=2");
  // A bare absolute path is a socket too (as redis-cli -s takes one).
  auto bare = url("/run/redis/redis.sock");
  CHECK(bare.address.unix_path == "/run/redis/redis.sock");
  CHECK(bare.to_string() == "unix:///run/redis/redis.sock");
}

TEST_CASE("URLs print in a canonical form that parses back to the same") {
  for (const char* text : {"redis://h:6379", "rediss://u@10.1.2.3:1/9", "redis://[::1]:6379/65535", "unix:///s",
                           "unix://a@/x/y?db=1", "redis://h.example.:5"}) {
    auto parsed = url(text);
    CHECK(url(parsed.to_string()) == parsed);
  }
  CHECK(url("redis://h").to_string() == "redis://h:6379");
}

TEST_CASE("bad URLs say what is wrong") {
  struct Case {
    const char* text;
    const char* mentions;
  };
  for (auto c : std::initializer_list<Case>{
           {"http://h:1", "unsupported scheme \"http\""},
           {"REDIS://h", "unsupported scheme \"REDIS\""},
           {"h:6379", "must be a URL"},
           {"redis://:secret@h", "must not hold a password"},
           {"redis://user:secret@h", "must not hold a password"},
           {"redis://@h", "user name before '@' is empty"},
           {"redis://u%4@h", "two hex digits"},
           {"redis://u%20x@h", "without spaces"},
           {"redis://", "host is missing"},
           {"redis://:6379", "host is missing"},
           {"redis://h:0", "port '0'"},
           {"redis://h:65536", "port '65536'"},
           {"redis://h:06379", "port '06379'"},
           {"redis://h:x", "port 'x'"},
           {"redis://2001:db8::1", "needs brackets"},
           {"redis://[10.0.0.1]:1", "not an IPv6 address"},
           {"redis://[::1", "closed with ']'"},
           {"redis://[::1]x", "only ':port'"},
           {"redis://h/x", "database 'x'"},
           {"redis://h/65536", "database '65536'"},
           {"redis://h/01", "database '01'"},
           {"redis://h/1?x=1", "query parameters"},
           {"redis://h#f", "fragment"},
           {"redis://h h", "spaces"},
           {"redis://bad_host!/", "neither a host name"},
           {"redis://10.0.0.256", "neither a host name"},
           {"redis://a..b", "neither a host name"},
           {"unix://", "absolute socket path"},
           {"unix://host/p", "has no host"},
           {"unix:///p?x=1", "db=N"},
           {"unix:///p?db=x", "database 'x'"},
           {"unix:///p%20q", "'%' escapes"},
       }) {
    CAPTURE(c.text);
    CHECK(url_error(c.text).find(c.mentions) != std::string::npos);
  }
  std::string long_path = "unix:///" + std::string(107, 'a');
  CHECK(url_error(long_path).find("longer than 107") != std::string::npos);
}

TEST_CASE("host:port for sentinels") {
  std::string error;
  auto address = policy::parse_host_port("10.0.0.1", policy::kSentinelDefaultPort, error);
  REQUIRE(address);
  CHECK(address->port == 26379);
  address = policy::parse_host_port("[::1]:26380", policy::kSentinelDefaultPort, error);
  REQUIRE(address);
  CHECK(address->host == "::1");
  CHECK(address->port == 26380);
  CHECK_FALSE(policy::parse_host_port("redis://h:1", 1, error));
  CHECK_FALSE(policy::parse_host_port("u@h:1", 1, error));
  CHECK_FALSE(policy::parse_host_port("", 1, error));
}

TEST_CASE("a standalone server") {
  auto config = parse(R"({"url": "rediss://portbroker@10.0.0.5:6379/0", "password_file": "/etc/portbroker/redis.pass",
                          "tls": {"ca": "/etc/portbroker/redis-ca.pem"}, "prefix": "pb:"})");
  CHECK(config.kind == StoreBackendConfig::Kind::redis);
  CHECK(config.server.host == "10.0.0.5");
  CHECK(config.tls);
  CHECK(config.tls_ca_file == "/etc/portbroker/redis-ca.pem");
  CHECK(config.user == "portbroker");
  CHECK(config.password_file == "/etc/portbroker/redis.pass");
  CHECK(config.prefix == "pb:");
  CHECK(config.timeout_ms == 2000);

  // rediss:// without a tls object verifies against the system's CAs.
  auto system_ca = parse(R"({"url": "rediss://h"})");
  CHECK(system_ca.tls_ca_file == "/etc/ssl/certs/ca-certificates.crt");
  CHECK(parse(R"({"url": "redis://h"})").tls_ca_file.empty());
  // The default prefix, an empty one, and a client certificate.
  CHECK(parse(R"({"url": "redis://h"})").prefix == "pb:");
  CHECK(parse(R"({"url": "redis://h", "prefix": ""})").prefix.empty());
  auto client = parse(R"({"url": "rediss://h", "tls": {"cert": "/c.pem", "key": "/k.pem", "server_name": "redis.internal"},
                          "timeout_ms": 500})");
  CHECK(client.tls_cert_file == "/c.pem");
  CHECK(client.tls_key_file == "/k.pem");
  CHECK(client.tls_server_name == "redis.internal");
  CHECK(client.timeout_ms == 500);
}

TEST_CASE("sentinels and a master name") {
  auto config = parse(R"({"sentinels": ["10.0.0.1:26379", "10.0.0.2", "[::1]:5000"], "master": "mymaster",
                          "user": "pb", "database": 2, "password_file": "/p", "sentinel_user": "s",
                          "sentinel_password_file": "/sp", "tls": {}})");
  CHECK(config.kind == StoreBackendConfig::Kind::sentinel);
  REQUIRE(config.sentinels.size() == 3);
  CHECK(config.sentinels[1].port == 26379);
  CHECK(config.sentinels[2].to_string() == "[::1]:5000");
  CHECK(config.master_name == "mymaster");
  CHECK(config.user == "pb");
  CHECK(config.database == 2);
  CHECK(config.sentinel_user == "s");
  CHECK(config.sentinel_password_file == "/sp");
  CHECK(config.tls);
}

TEST_CASE("bad store sections name the field") {
  struct Case {
    const char* json;
    const char* error;  // the start of what()
  };
  for (auto c : std::initializer_list<Case>{
           {R"("redis://h")", "/store: must be an object"},
           {R"({})", "/store: needs url"},
           {R"({"url": "redis://h", "sentinels": ["h"]})", "/store: has both url and sentinels"},
           {R"({"url": "http://h"})", "/store/url: unsupported scheme \"http\""},
           {R"({"url": 5})", "/store/url: must be a string"},
           {R"({"url": "redis://h", "colour": 1})", "/store/colour: unknown field"},
           {R"({"url": "redis://h", "user": "x"})", "/store/user: belongs in the url"},
           {R"({"url": "redis://h", "database": 1})", "/store/database: belongs in the url"},
           {R"({"url": "redis://h", "master": "m"})", "/store/master: only applies with sentinels"},
           {R"({"url": "redis://h", "password_file": "relative"})", "/store/password_file: must be an absolute path"},
           {R"({"url": "redis://h", "tls": {}})", "/store/tls: needs a rediss:// url"},
           {R"({"url": "unix:///s", "tls": {}})", "/store/tls: does not apply to a Unix socket"},
           {R"({"url": "rediss://h", "tls": {"cert": "/c"}})", "/store/tls/key: a client certificate needs both"},
           {R"({"url": "rediss://h", "tls": {"key": "/k"}})", "/store/tls/cert: a client certificate needs both"},
           {R"({"url": "rediss://h", "tls": {"verify": false}})", "/store/tls/verify: unknown field"},
           {R"({"url": "rediss://h", "tls": {"server_name": "a b"}})", "/store/tls/server_name: must be a host name"},
           {R"({"url": "redis://h", "prefix": "p b"})", "/store/prefix: may hold printable ASCII only"},
           {R"({"url": "redis://h", "timeout_ms": 50})", "/store/timeout_ms: must be an integer from 100 to 60000"},
           {R"({"sentinels": []})", "/store/sentinels: must be a list of 1 to 16"},
           {R"({"sentinels": "h"})", "/store/sentinels: must be a list"},
           {R"({"sentinels": ["h"]})", "/store/master: is required with sentinels"},
           {R"({"sentinels": ["h:0"], "master": "m"})", "/store/sentinels/0: the port '0'"},
           {R"({"sentinels": ["h", "h:26379"], "master": "m"})", "/store/sentinels/1: names h:26379 twice"},
           {R"({"sentinels": ["h"], "master": ""})", "/store/master: must be a name of 1 to 256 bytes"},
           {R"({"sentinels": ["h"], "master": "a b"})", "/store/master: may hold printable ASCII only"},
           {R"({"sentinels": ["h"], "master": "m", "user": ""})", "/store/user: must be 1 to 256 bytes"},
           {R"({"sentinels": ["h"], "master": "m", "database": 70000})", "/store/database: must be an integer"},
           {R"({"sentinels": ["h"], "master": "m", "sentinel_password_file": "x"})",
            "/store/sentinel_password_file: must be an absolute path"},
       }) {
    CAPTURE(c.json);
    std::string error = error_of(c.json);
    CAPTURE(error);
    CHECK(error.starts_with(c.error));
  }
  std::string long_prefix = R"({"url": "redis://h", "prefix": ")" + std::string(65, 'p') + "\"}";
  CHECK(error_of(long_prefix).starts_with("/store/prefix: must be at most 64 bytes"));
}
