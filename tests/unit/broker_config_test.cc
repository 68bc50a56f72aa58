#include "policy/broker_config.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policy/json_fields.h"

using policy::BrokerConfig;
using policy::JsonFieldError;
using policy::parse_broker_config;

namespace {

struct ErrorCase {
  const char* label;
  std::string text;
  std::string path;
  std::string message_mentions;  // a phrase the message must contain
};

// Parses `text`, expecting a JsonFieldError with the given path and message.
void check_error(const ErrorCase& c) {
  CAPTURE(std::string(c.label));
  CAPTURE(c.text);
  try {
    parse_broker_config(c.text);
    FAIL("parse_broker_config accepted the document");
  } catch (const JsonFieldError& e) {
    CAPTURE(std::string(e.what()));
    CHECK(e.path() == c.path);
    // what() is "<path>: <message>".
    CHECK(std::string(e.what()).starts_with(c.path + ": "));
    CHECK(std::string(e.what()).find(c.message_mentions) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("an empty object yields the documented defaults") {
  BrokerConfig config = parse_broker_config("{}");
  CHECK(config.handlers_dir == "/etc/portbroker/handlers");
  CHECK(config.run_dir == "/run/portbroker");
  CHECK(config.state_dir == "/var/lib/portbroker");
  CHECK(config.log_level == "info");
  CHECK(config.firewall_enabled);
  CHECK(config.open_timeout_ms == 10000);
  CHECK(config.close_timeout_ms == 5000);
  CHECK(config.drain_timeout_ms == 5000);
}

TEST_CASE("empty nested objects keep the defaults") {
  BrokerConfig config = parse_broker_config(R"({"firewall": {}, "timeouts": {}})");
  CHECK(config.firewall_enabled);
  CHECK(config.open_timeout_ms == 10000);
  CHECK(config.close_timeout_ms == 5000);
  CHECK(config.drain_timeout_ms == 5000);
}

TEST_CASE("every field is read") {
  BrokerConfig config = parse_broker_config(R"({
    "handlers_dir": "/srv/handlers",
    "run_dir": "/tmp/run",
    "state_dir": "/var/state",
    "log_level": "debug",
    "firewall": {"enabled": false},
    "timeouts": {"open_ms": 1, "close_ms": 86400000, "drain_ms": 250}
  })");
  CHECK(config.handlers_dir == "/srv/handlers");
  CHECK(config.run_dir == "/tmp/run");
  CHECK(config.state_dir == "/var/state");
  CHECK(config.log_level == "debug");
  CHECK_FALSE(config.firewall_enabled);
  CHECK(config.open_timeout_ms == 1);
  CHECK(config.close_timeout_ms == 86400000);
  CHECK(config.drain_timeout_ms == 250);
}

TEST_CASE("each field can be set alone, leaving the others at their defaults") {
  const BrokerConfig defaults;
  SUBCASE("handlers_dir") {
    auto config = parse_broker_config(R"({"handlers_dir": "/h"})");
    CHECK(config.handlers_dir == "/h");
    CHECK(config.run_dir == defaults.run_dir);
  }
  SUBCASE("run_dir") {
    auto config = parse_broker_config(R"({"run_dir": "/r"})");
    CHECK(config.run_dir == "/r");
    CHECK(config.state_dir == defaults.state_dir);
  }
  SUBCASE("state_dir") {
    auto config = parse_broker_config(R"({"state_dir": "/s"})");
    CHECK(config.state_dir == "/s");
    CHECK(config.handlers_dir == defaults.handlers_dir);
  }
  SUBCASE("firewall.enabled true") {
    auto config = parse_broker_config(R"({"firewall": {"enabled": true}})");
    CHECK(config.firewall_enabled);
  }
  SUBCASE("timeouts.open_ms") {
    auto config = parse_broker_config(R"({"timeouts": {"open_ms": 42}})");
    CHECK(config.open_timeout_ms == 42);
    CHECK(config.close_timeout_ms == defaults.close_timeout_ms);
    CHECK(config.drain_timeout_ms == defaults.drain_timeout_ms);
  }
  SUBCASE("timeouts.close_ms") {
    auto config = parse_broker_config(R"({"timeouts": {"close_ms": 43}})");
    CHECK(config.close_timeout_ms == 43);
    CHECK(config.open_timeout_ms == defaults.open_timeout_ms);
  }
  SUBCASE("timeouts.drain_ms") {
    auto config = parse_broker_config(R"({"timeouts": {"drain_ms": 44}})");
    CHECK(config.drain_timeout_ms == 44);
    CHECK(config.open_timeout_ms == defaults.open_timeout_ms);
  }
}

TEST_CASE("every documented log level is accepted") {
  for (const char* level : {"debug", "info", "warn", "error"}) {
    CAPTURE(std::string(level));
    auto config = parse_broker_config(std::string(R"({"log_level": ")") + level + "\"}");
    CHECK(config.log_level == level);
  }
}

TEST_CASE("unknown fields are errors naming their path") {
  const std::vector<ErrorCase> cases = {
      {"top level", R"({"handler_dir": "/x"})", "/handler_dir", "unknown field"},
      {"top level, after known fields", R"({"run_dir": "/r", "extra": 1})", "/extra", "unknown field"},
      {"in firewall", R"({"firewall": {"enabled": true, "mode": "nft"}})", "/firewall/mode", "unknown field"},
      {"in timeouts", R"({"timeouts": {"open_ms": 5, "idle_ms": 5}})", "/timeouts/idle_ms", "unknown field"},
      {"case matters", R"({"Run_Dir": "/r"})", "/Run_Dir", "unknown field"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("wrong types are errors naming their path") {
  const std::vector<ErrorCase> cases = {
      {"handlers_dir number", R"({"handlers_dir": 5})", "/handlers_dir", "must be a string"},
      {"run_dir null", R"({"run_dir": null})", "/run_dir", "must be a string"},
      {"state_dir array", R"({"state_dir": ["/a"]})", "/state_dir", "must be a string"},
      {"log_level boolean", R"({"log_level": true})", "/log_level", "must be a string"},
      {"firewall string", R"({"firewall": "on"})", "/firewall", "must be an object"},
      {"firewall array", R"({"firewall": []})", "/firewall", "must be an object"},
      {"firewall.enabled string", R"({"firewall": {"enabled": "true"}})", "/firewall/enabled", "must be true or false"},
      {"firewall.enabled number", R"({"firewall": {"enabled": 1}})", "/firewall/enabled", "must be true or false"},
      {"firewall.enabled null", R"({"firewall": {"enabled": null}})", "/firewall/enabled", "must be true or false"},
      {"timeouts number", R"({"timeouts": 5})", "/timeouts", "must be an object"},
      {"timeouts null", R"({"timeouts": null})", "/timeouts", "must be an object"},
      {"open_ms string", R"({"timeouts": {"open_ms": "100"}})", "/timeouts/open_ms", "must be an integer"},
      {"close_ms boolean", R"({"timeouts": {"close_ms": true}})", "/timeouts/close_ms", "must be an integer"},
      {"drain_ms object", R"({"timeouts": {"drain_ms": {}}})", "/timeouts/drain_ms", "must be an integer"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("directories must be absolute paths") {
  const std::vector<ErrorCase> cases = {
      {"relative handlers_dir", R"({"handlers_dir": "handlers"})", "/handlers_dir", "absolute path"},
      {"dot-relative run_dir", R"({"run_dir": "./run"})", "/run_dir", "absolute path"},
      {"parent-relative state_dir", R"({"state_dir": "../state"})", "/state_dir", "absolute path"},
      {"empty handlers_dir", R"({"handlers_dir": ""})", "/handlers_dir", "absolute path"},
      {"leading space", R"({"run_dir": " /run"})", "/run_dir", "absolute path"},
      {"home shorthand", R"({"state_dir": "~/state"})", "/state_dir", "absolute path"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("an unknown log level is an error") {
  const std::vector<ErrorCase> cases = {
      {"made up", R"({"log_level": "verbose"})", "/log_level", "debug, info, warn, error"},
      {"upper case", R"({"log_level": "INFO"})", "/log_level", "debug, info, warn, error"},
      {"empty", R"({"log_level": ""})", "/log_level", "debug, info, warn, error"},
      {"trace", R"({"log_level": "trace"})", "/log_level", "debug, info, warn, error"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("timeouts must be integers from 1 ms to 24 hours") {
  const std::string range = "an integer from 1 to 86400000";
  const std::vector<ErrorCase> cases = {
      {"zero", R"({"timeouts": {"open_ms": 0}})", "/timeouts/open_ms", range},
      {"negative", R"({"timeouts": {"close_ms": -1}})", "/timeouts/close_ms", range},
      {"very negative", R"({"timeouts": {"drain_ms": -9223372036854775808}})", "/timeouts/drain_ms", range},
      {"one over a day", R"({"timeouts": {"open_ms": 86400001}})", "/timeouts/open_ms", range},
      {"over uint32", R"({"timeouts": {"close_ms": 4294967297}})", "/timeouts/close_ms", range},
      {"max uint64", R"({"timeouts": {"drain_ms": 18446744073709551615}})", "/timeouts/drain_ms", range},
      {"over uint64 (parsed as float)", R"({"timeouts": {"drain_ms": 18446744073709551616}})", "/timeouts/drain_ms", range},
      {"fraction", R"({"timeouts": {"open_ms": 1.5}})", "/timeouts/open_ms", range},
      {"integral float", R"({"timeouts": {"open_ms": 100.0}})", "/timeouts/open_ms", range},
      {"exponent", R"({"timeouts": {"close_ms": 1e3}})", "/timeouts/close_ms", range},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("the config file may carry comments, which the packaged one uses") {
  auto config = policy::parse_broker_config("// the operator's notes\n{\n  /* where */ \"run_dir\": \"/r\" // trailing\n}\n");
  CHECK(config.run_dir == "/r");
}

TEST_CASE("syntax errors are reported at the document root with line and column") {
  const std::vector<ErrorCase> cases = {
      {"empty input", "", "/", "line 1, column 1"},
      {"whitespace only", "  \n ", "/", "line 2, column 2"},
      {"missing value", "{\n  \"run_dir\": \n}", "/", "line 3, column 1"},
      {"trailing comma", "{\"run_dir\": \"/r\",}", "/", "line 1, column 18"},
      {"single quotes", "{'run_dir': '/r'}", "/", "line 1, column 2"},
      {"unterminated comment", "{\n/* note\n}", "/", "line 3"},
      {"trailing garbage", "{} x", "/", "line 1, column 4"},
      {"unterminated string", "{\"run_dir\": \"/r", "/", "line 1, column 16"},
  };
  for (const auto& c : cases) {
    check_error(c);
    // The message must not carry nlohmann's internal exception id.
    try {
      parse_broker_config(c.text);
    } catch (const JsonFieldError& e) {
      CHECK(std::string(e.what()).find("json.exception") == std::string::npos);
    }
  }
}

TEST_CASE("a document that is not an object is an error at the root") {
  for (const char* text : {"[]", "[{}]", "42", "\"/etc\"", "null", "true"}) {
    check_error({"non-object", text, "/", "must be an object"});
  }
}

TEST_CASE("input larger than kMaxConfigBytes is refused before parsing") {
  // Valid JSON padded with whitespace: exactly the limit is fine...
  std::string text = "{}";
  text.resize(policy::kMaxConfigBytes, ' ');
  CHECK(parse_broker_config(text).run_dir == "/run/portbroker");
  // ...one byte more is refused, even though it would parse.
  text.push_back(' ');
  check_error({"one byte over", text, "/", "larger than 1048576 bytes"});
}

TEST_CASE("deeply nested input within the size limit fails cleanly") {
  // 400k levels of nesting must not overflow the stack while parsing or destroying.
  constexpr size_t kDepth = 400000;
  std::string arrays(kDepth, '[');
  arrays.append(kDepth, ']');
  check_error({"nested arrays", arrays, "/", "nested deeper than 32 levels"});

  std::string objects;
  for (size_t i = 0; i < 100000; ++i) objects += "{\"a\":";
  objects += "1";
  objects.append(100000, '}');
  check_error({"nested objects", objects, "/", "nested deeper than 32 levels"});

  // At the limit it parses (and then fails on content, as usual).
  std::string at_limit;
  for (int i = 0; i < policy::kMaxJsonDepth; ++i) at_limit += "{\"a\":";
  at_limit += "1";
  at_limit.append(policy::kMaxJsonDepth, '}');
  check_error({"at the limit", at_limit, "/a", "unknown field"});
}

TEST_CASE("the worker section: defaults, every field, and bounds") {
  SUBCASE("defaults") {
    auto worker = parse_broker_config("{}").worker;
    CHECK(worker.user == "portbroker");
    CHECK_FALSE(worker.user_configured);
    CHECK(worker.sandbox);
    CHECK(worker.heap_mb == 512);
    CHECK(worker.memory_mb == 1024);
    CHECK(worker.cpu_limit_ms == 10000);
    CHECK(worker.open_files == 4096);
    CHECK(worker.processes == 16384);
    CHECK(worker.address_space_mb == 16384);
    CHECK(worker.max_restarts == 5);
  }
  SUBCASE("every field") {
    auto worker = parse_broker_config(R"({"worker": {"user": "svc", "sandbox": false, "heap_mb": 64,
        "memory_mb": 128, "cpu_limit_ms": 500, "open_files": 256, "processes": 64, "address_space_mb": 2048,
        "max_restarts": 0}})").worker;
    CHECK(worker.user == "svc");
    CHECK(worker.user_configured);
    CHECK_FALSE(worker.sandbox);
    CHECK(worker.heap_mb == 64);
    CHECK(worker.memory_mb == 128);
    CHECK(worker.cpu_limit_ms == 500);
    CHECK(worker.open_files == 256);
    CHECK(worker.processes == 64);
    CHECK(worker.address_space_mb == 2048);
    CHECK(worker.max_restarts == 0);
  }
  SUBCASE("errors name the field") {
    for (const auto& c : std::vector<ErrorCase>{
             {"empty user", R"({"worker": {"user": ""}})", "/worker/user", "must not be empty"},
             {"memory too small", R"({"worker": {"memory_mb": 8}})", "/worker/memory_mb", "32"},
             {"cpu limit zero", R"({"worker": {"cpu_limit_ms": 0}})", "/worker/cpu_limit_ms", "50"},
             {"sandbox not a bool", R"({"worker": {"sandbox": "no"}})", "/worker/sandbox", "true or false"},
             {"unknown field", R"({"worker": {"memory": 1}})", "/worker/memory", "unknown field"},
         }) {
      check_error(c);
    }
  }
}

TEST_CASE("metrics.listen takes an IP address and a port") {
  CHECK_FALSE(parse_broker_config("{}").metrics_listen.has_value());
  auto v4 = parse_broker_config(R"({"metrics": {"listen": "127.0.0.1:9464"}})").metrics_listen;
  REQUIRE(v4.has_value());
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 9464);
  auto v6 = parse_broker_config(R"({"metrics": {"listen": "[::1]:65535"}})").metrics_listen;
  REQUIRE(v6.has_value());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 65535);
  CHECK_FALSE(parse_broker_config(R"({"metrics": {}})").metrics_listen.has_value());
  const std::vector<ErrorCase> cases = {
      {"no port", R"({"metrics": {"listen": "127.0.0.1"}})", "/metrics/listen", "address:port"},
      {"port zero", R"({"metrics": {"listen": "127.0.0.1:0"}})", "/metrics/listen", "1-65535"},
      {"port too large", R"({"metrics": {"listen": "127.0.0.1:65536"}})", "/metrics/listen", "1-65535"},
      {"leading zero", R"({"metrics": {"listen": "127.0.0.1:09464"}})", "/metrics/listen", "1-65535"},
      {"host name", R"({"metrics": {"listen": "localhost:9464"}})", "/metrics/listen", "IP address"},
      {"IPv6 without brackets", R"({"metrics": {"listen": "::1:9464"}})", "/metrics/listen", "brackets"},
      {"not a string", R"({"metrics": {"listen": 9464}})", "/metrics/listen", "string"},
      {"unknown field", R"({"metrics": {"path": "/m"}})", "/metrics/path", "unknown"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("scheduling.latency_slice_us: 100 by default, 0 or the kernel's bounds") {
  CHECK(parse_broker_config("{}").latency_slice_us == 100);
  CHECK(parse_broker_config(R"({"scheduling": {}})").latency_slice_us == 100);
  for (uint32_t slice : {0u, 100u, 250u, 100000u}) {
    CAPTURE(slice);
    CHECK(parse_broker_config(R"({"scheduling": {"latency_slice_us": )" + std::to_string(slice) + "}}").latency_slice_us ==
          slice);
  }
  const std::vector<ErrorCase> cases = {
      {"below the kernel's minimum", R"({"scheduling": {"latency_slice_us": 99}})", "/scheduling/latency_slice_us",
       "0 (the kernel's default) or from 100 to 100000"},
      {"above the kernel's maximum", R"({"scheduling": {"latency_slice_us": 100001}})", "/scheduling/latency_slice_us",
       "100000"},
      {"negative", R"({"scheduling": {"latency_slice_us": -1}})", "/scheduling/latency_slice_us", "integer"},
      {"a string", R"({"scheduling": {"latency_slice_us": "100"}})", "/scheduling/latency_slice_us", "integer"},
      {"not an object", R"({"scheduling": 100})", "/scheduling", "object"},
      {"an unknown field", R"({"scheduling": {"nice": -5}})", "/scheduling/nice", "unknown"},
  };
  for (const auto& c : cases) check_error(c);
}

TEST_CASE("the screening section: defaults, every field, and bounds") {
  SUBCASE("defaults") {
    auto screening = parse_broker_config("{}").screening;
    CHECK(screening.max_connections == 1024);
    CHECK(screening.max_connections_per_ip == 256);
    CHECK(screening.tcp_idle_timeout_s == 300.0);
    CHECK(screening.udp_session_timeout_s == 120.0);
    CHECK(screening.udp_rate_limit == policy::RateLimit{1000, 1.0});
    CHECK(screening.udp_reply_ratio == 3);
    CHECK(screening.udp_max_reply_rate == 10000);
    CHECK(screening.ipv6_prefix == 64);
    CHECK(screening.max_tracked_sources == 65536);
  }
  SUBCASE("every field") {
    auto screening = parse_broker_config(R"({"screening": {"max_connections": 10, "max_connections_per_ip": 2,
        "idle_timeout_s": 30, "udp_session_timeout_s": 60, "udp_rate_limit": {"per_ip": 50, "window_s": 10},
        "udp_reply_ratio": 1, "udp_max_reply_rate": 500, "ipv6_prefix": 56, "max_tracked_sources": 1000}})")
                         .screening;
    CHECK(screening.max_connections == 10);
    CHECK(screening.max_connections_per_ip == 2);
    CHECK(screening.tcp_idle_timeout_s == 30.0);
    CHECK(screening.udp_session_timeout_s == 60.0);
    CHECK(screening.udp_rate_limit == policy::RateLimit{50, 10.0});
    CHECK(screening.udp_reply_ratio == 1);
    CHECK(screening.udp_max_reply_rate == 500);
    CHECK(screening.ipv6_prefix == 56);
    CHECK(screening.max_tracked_sources == 1000);
  }
  SUBCASE("errors name the field") {
    for (const auto& c : std::vector<ErrorCase>{
             {"per-ip cap zero", R"({"screening": {"max_connections_per_ip": 0}})",
              "/screening/max_connections_per_ip", "from 1 to 1000000"},
             {"rate limit not an object", R"({"screening": {"udp_rate_limit": 1000}})", "/screening/udp_rate_limit",
              "must be an object"},
             {"rate limit without window", R"({"screening": {"udp_rate_limit": {"per_ip": 10}}})",
              "/screening/udp_rate_limit/window_s", "is required"},
             {"rate limit without per_ip", R"({"screening": {"udp_rate_limit": {"window_s": 1}}})",
              "/screening/udp_rate_limit/per_ip", "is required"},
             {"rate limit in the manifest's spelling", R"({"screening": {"udp_rate_limit": {"perIp": 10}}})",
              "/screening/udp_rate_limit/perIp", "unknown field"},
             {"rate limit zero", R"({"screening": {"udp_rate_limit": {"per_ip": 0, "window_s": 1}}})",
              "/screening/udp_rate_limit/per_ip", "from 1 to 1000000"},
             {"window fraction", R"({"screening": {"udp_rate_limit": {"per_ip": 1, "window_s": 0.5}}})",
              "/screening/udp_rate_limit/window_s", "from 1 to 604800"},
             {"reply ratio zero", R"({"screening": {"udp_reply_ratio": 0}})", "/screening/udp_reply_ratio",
              "from 1 to 1000"},
             {"reply ratio too high", R"({"screening": {"udp_reply_ratio": 1001}})", "/screening/udp_reply_ratio",
              "from 1 to 1000"},
             {"reply rate zero", R"({"screening": {"udp_max_reply_rate": 0}})", "/screening/udp_max_reply_rate",
              "from 1 to 10000000"},
             {"unknown field", R"({"screening": {"udp_reply_rate": 1}})", "/screening/udp_reply_rate",
              "unknown field"},
         }) {
      check_error(c);
    }
  }
}

TEST_CASE("number overflow: a number too large for a double is an error at the root") {
  check_error({"overflow", R"({"screening": {"max_connections": 1e400}})", "/", "number overflow"});
}

TEST_CASE("the egress section: defaults, each field read, bounds and consistency named by path") {
  CHECK(parse_broker_config("{}").egress == policy::EgressDefaults{});
  BrokerConfig config = parse_broker_config(
      R"({"egress": {"concurrent": 8, "per_second": 5, "max_concurrent": 16, "max_per_second": 10,
                     "connect_timeout_ms": 1000, "lookup_timeout_ms": 500}})");
  CHECK(config.egress.concurrent == 8);
  CHECK(config.egress.per_second == 5);
  CHECK(config.egress.max_concurrent == 16);
  CHECK(config.egress.max_per_second == 10);
  CHECK(config.egress.connect_timeout_ms == 1000);
  CHECK(config.egress.lookup_timeout_ms == 500);
  const std::vector<ErrorCase> cases = {
      {"not an object", R"({"egress": 5})", "/egress", ""},
      {"unknown field", R"({"egress": {"timeout": 5}})", "/egress/timeout", ""},
      {"zero concurrent", R"({"egress": {"concurrent": 0}})", "/egress/concurrent", ""},
      {"a connect timeout too short", R"({"egress": {"connect_timeout_ms": 99}})", "/egress/connect_timeout_ms", ""},
      {"a lookup timeout too long", R"({"egress": {"lookup_timeout_ms": 60001}})", "/egress/lookup_timeout_ms", ""},
      {"a default above its ceiling", R"({"egress": {"concurrent": 20, "max_concurrent": 10}})", "/egress/concurrent",
       "above max_concurrent (10)"},
      {"a rate above its ceiling", R"({"egress": {"per_second": 20, "max_per_second": 10}})", "/egress/per_second",
       "above max_per_second (10)"},
      {"a string for a number", R"({"egress": {"per_second": "5"}})", "/egress/per_second", ""},
  };
  for (const auto& c : cases) check_error(c);
}
