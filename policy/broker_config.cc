#include "policy/broker_config.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>

#include "common/log.h"
#include "policy/ip_address.h"
#include "policy/json_fields.h"

namespace policy {
namespace {

constexpr uint64_t kMaxTimeoutMs = 24ull * 3600 * 1000;
constexpr uint64_t kMinLatencySliceUs = 100;
constexpr uint64_t kMaxLatencySliceUs = 100000;

std::string read_absolute_path(const nlohmann::json& value, std::string_view path) {
  std::string text = read_string(value, path);
  if (text.empty() || text.front() != '/') throw JsonFieldError(std::string(path), "must be an absolute path");
  return text;
}

// "address:port", an IPv6 address in brackets.
BrokerConfig::ListenAddress read_listen_address(const nlohmann::json& value, std::string_view path) {
  std::string text = read_string(value, path);
  auto colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    host.clear();  // an IPv6 address needs its brackets
  }
  char* end = nullptr;
  unsigned long number = port.empty() ? 0 : std::strtoul(port.c_str(), &end, 10);
  bool port_ok = !port.empty() && *end == '\0' && port[0] != '0' && number >= 1 && number <= 65535;
  if (host.empty() || !IpAddress::parse(host) || !port_ok) {
    throw JsonFieldError(std::string(path), "must be \"address:port\" with an IP address (IPv6 in brackets) and a port 1-65535");
  }
  return {host, static_cast<uint16_t>(number)};
}

EgressDefaults read_egress_defaults(const nlohmann::json& value, const std::string& path) {
  require_object(value, path);
  reject_unknown_fields(value, path,
                        {"concurrent", "per_second", "max_concurrent", "max_per_second", "connect_timeout_ms",
                         "lookup_timeout_ms"});
  EgressDefaults out;
  auto read = [&](const char* key, uint32_t& field, uint64_t min, uint64_t max) {
    if (value.contains(key)) field = static_cast<uint32_t>(read_integer(value[key], child_path(path, key), min, max));
  };
  read("concurrent", out.concurrent, 1, kMaxConnectConcurrent);
  read("per_second", out.per_second, 1, kMaxConnectPerSecond);
  read("max_concurrent", out.max_concurrent, 1, kMaxConnectConcurrent);
  read("max_per_second", out.max_per_second, 1, kMaxConnectPerSecond);
  read("connect_timeout_ms", out.connect_timeout_ms, 100, 120000);
  read("lookup_timeout_ms", out.lookup_timeout_ms, 100, 60000);
  // The defaults are what a manifest gets without asking: never more than
  // what it could ask for.
  if (out.concurrent > out.max_concurrent) {
    throw JsonFieldError(child_path(path, "concurrent"), "is above max_concurrent (" + std::to_string(out.max_concurrent) + ")");
  }
  if (out.per_second > out.max_per_second) {
    throw JsonFieldError(child_path(path, "per_second"), "is above max_per_second (" + std::to_string(out.max_per_second) + ")");
  }
  return out;
}

}  // namespace

void finish_config(BrokerConfig& config) {
  // Tenants' folders against the operator's folder and state_dir (which
  // the command line may have changed).
  config.tenants.clear();
  if (!config.tenants_json.is_null()) config.tenants = read_tenants(config.tenants_json, config.handlers_dir, config.state_dir);
  for (size_t i = 0; i < config.tls.key_dirs.size(); ++i) {
    const std::string& dir = config.tls.key_dirs[i];
    std::string path = "/tls/key_dirs/" + std::to_string(i);
    // The local CA's key lives under state_dir: a key directory holding it
    // would let a manifest ship it to handler code.
    if (path_within(dir, config.state_dir) || path_within(config.state_dir, dir)) {
      throw JsonFieldError(path, "'" + dir + "' overlaps state_dir (" + config.state_dir +
                                     "), where the local CA's key is; keep keys elsewhere");
    }
    if (path_within(dir, config.handlers_dir) || path_within(config.handlers_dir, dir)) {
      throw JsonFieldError(path, "'" + dir + "' overlaps the handlers folder (" + config.handlers_dir +
                                     "), which handler code can read");
    }
    for (const auto& tenant : config.tenants) {
      if (path_within(dir, tenant.handlers_dir) || path_within(tenant.handlers_dir, dir)) {
        throw JsonFieldError(path, "'" + dir + "' overlaps tenant " + tenant.name + "'s folder, which its code can read");
      }
    }
  }
}

BrokerConfig parse_broker_config(std::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    throw JsonFieldError("/", "file is larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  }
  nlohmann::json document = parse_json_object(text, /*allow_comments=*/true);
  reject_unknown_fields(document, "/",
                        {"handlers_dir", "run_dir", "state_dir", "log_level", "firewall", "timeouts", "screening",
                         "worker", "metrics", "scheduling", "tls", "tenants", "store", "egress"});
  BrokerConfig config;
  if (document.contains("handlers_dir")) config.handlers_dir = read_absolute_path(document["handlers_dir"], "/handlers_dir");
  if (document.contains("run_dir")) config.run_dir = read_absolute_path(document["run_dir"], "/run_dir");
  if (document.contains("state_dir")) config.state_dir = read_absolute_path(document["state_dir"], "/state_dir");
  for (auto* dir : {&config.handlers_dir, &config.run_dir, &config.state_dir}) {
    // Compared as paths below (key directories must stay apart from them).
    if (dir->size() > 1 && dir->back() == '/') dir->pop_back();
  }
  if (document.contains("tenants")) config.tenants_json = document["tenants"];
  if (document.contains("tls")) config.tls = read_tls_sources(document["tls"], "/tls");
  if (document.contains("store")) config.store = read_store_backend(document["store"], "/store");
  if (document.contains("log_level")) {
    config.log_level = read_string(document["log_level"], "/log_level");
    if (!common::log::parse_level(config.log_level)) {
      throw JsonFieldError("/log_level", "must be one of debug, info, warn, error");
    }
  }
  if (document.contains("scheduling")) {
    const auto& scheduling = document["scheduling"];
    require_object(scheduling, "/scheduling");
    reject_unknown_fields(scheduling, "/scheduling", {"latency_slice_us"});
    if (scheduling.contains("latency_slice_us")) {
      constexpr std::string_view kPath = "/scheduling/latency_slice_us";
      uint64_t slice = read_integer(scheduling["latency_slice_us"], kPath, 0, kMaxLatencySliceUs);
      // The kernel's own bounds for a custom slice.
      if (slice != 0 && slice < kMinLatencySliceUs) {
        throw JsonFieldError(std::string(kPath), "must be 0 (the kernel's default) or from 100 to 100000");
      }
      config.latency_slice_us = static_cast<uint32_t>(slice);
    }
  }
  if (document.contains("metrics")) {
    const auto& metrics = document["metrics"];
    require_object(metrics, "/metrics");
    reject_unknown_fields(metrics, "/metrics", {"listen"});
    if (metrics.contains("listen")) config.metrics_listen = read_listen_address(metrics["listen"], "/metrics/listen");
  }
  if (document.contains("firewall")) {
    const auto& firewall = document["firewall"];
    require_object(firewall, "/firewall");
    reject_unknown_fields(firewall, "/firewall", {"enabled", "accept_in"});
    if (firewall.contains("enabled")) config.firewall_enabled = read_bool(firewall["enabled"], "/firewall/enabled");
    if (firewall.contains("accept_in")) {
      const auto& chain = firewall["accept_in"];
      require_object(chain, "/firewall/accept_in");
      reject_unknown_fields(chain, "/firewall/accept_in", {"family", "table", "chain"});
      BrokerConfig::Chain parsed;
      for (auto [key, field] : {std::pair<const char*, std::string*>{"family", &parsed.family},
                                {"table", &parsed.table}, {"chain", &parsed.chain}}) {
        std::string path = child_path("/firewall/accept_in", key);
        if (!chain.contains(key)) throw JsonFieldError(path, "is required");
        *field = read_string(chain[key], path);
        if (field->empty()) throw JsonFieldError(path, "must not be empty");
      }
      static constexpr std::string_view kFamilies[] = {"inet", "ip", "ip6"};
      if (std::find(std::begin(kFamilies), std::end(kFamilies), parsed.family) == std::end(kFamilies)) {
        throw JsonFieldError("/firewall/accept_in/family", "must be inet, ip or ip6");
      }
      config.firewall_accept_in = parsed;
    }
  }
  if (document.contains("screening")) {
    const auto& screening = document["screening"];
    require_object(screening, "/screening");
    reject_unknown_fields(screening, "/screening",
                          {"max_connections", "max_connections_per_ip", "idle_timeout_s", "udp_session_timeout_s",
                           "udp_rate_limit", "udp_reply_ratio", "udp_max_reply_rate", "ipv6_prefix",
                           "max_tracked_sources"});
    auto& out = config.screening;
    if (screening.contains("max_connections")) {
      out.max_connections = static_cast<uint32_t>(
          read_integer(screening["max_connections"], "/screening/max_connections", 1, kMaxConnectionsLimit));
    }
    if (screening.contains("max_connections_per_ip")) {
      out.max_connections_per_ip = static_cast<uint32_t>(read_integer(
          screening["max_connections_per_ip"], "/screening/max_connections_per_ip", 1, kMaxConnectionsLimit));
    }
    if (screening.contains("udp_rate_limit")) {
      const auto& rate = screening["udp_rate_limit"];
      constexpr std::string_view kPath = "/screening/udp_rate_limit";
      require_object(rate, kPath);
      reject_unknown_fields(rate, kPath, {"per_ip", "window_s"});
      for (const char* key : {"per_ip", "window_s"}) {
        if (!rate.contains(key)) throw JsonFieldError(child_path(kPath, key), "is required");
      }
      out.udp_rate_limit = RateLimit{
          static_cast<uint32_t>(read_integer(rate["per_ip"], child_path(kPath, "per_ip"), 1, kMaxRatePerSource)),
          static_cast<double>(
              read_integer(rate["window_s"], child_path(kPath, "window_s"), 1, static_cast<uint64_t>(kMaxSeconds))),
      };
    }
    if (screening.contains("udp_reply_ratio")) {
      out.udp_reply_ratio = static_cast<uint32_t>(
          read_integer(screening["udp_reply_ratio"], "/screening/udp_reply_ratio", 1, kMaxReplyRatio));
    }
    if (screening.contains("udp_max_reply_rate")) {
      out.udp_max_reply_rate = static_cast<uint32_t>(
          read_integer(screening["udp_max_reply_rate"], "/screening/udp_max_reply_rate", 1, kMaxReplyRate));
    }
    if (screening.contains("idle_timeout_s")) {
      out.tcp_idle_timeout_s = static_cast<double>(
          read_integer(screening["idle_timeout_s"], "/screening/idle_timeout_s", 1, static_cast<uint64_t>(kMaxSeconds)));
    }
    if (screening.contains("udp_session_timeout_s")) {
      out.udp_session_timeout_s = static_cast<double>(read_integer(
          screening["udp_session_timeout_s"], "/screening/udp_session_timeout_s", 1, static_cast<uint64_t>(kMaxSeconds)));
    }
    if (screening.contains("ipv6_prefix")) {
      out.ipv6_prefix = static_cast<uint8_t>(read_integer(screening["ipv6_prefix"], "/screening/ipv6_prefix", 16, 128));
    }
    if (screening.contains("max_tracked_sources")) {
      out.max_tracked_sources = static_cast<size_t>(
          read_integer(screening["max_tracked_sources"], "/screening/max_tracked_sources", 16, 10000000));
    }
  }
  if (document.contains("worker")) {
    const auto& worker = document["worker"];
    require_object(worker, "/worker");
    reject_unknown_fields(worker, "/worker",
                          {"user", "sandbox", "heap_mb", "memory_mb", "cpu_limit_ms", "open_files", "processes", "address_space_mb",
                           "max_restarts"});
    auto& out = config.worker;
    if (worker.contains("user")) {
      out.user = read_string(worker["user"], "/worker/user");
      if (out.user.empty()) throw JsonFieldError("/worker/user", "must not be empty");
      out.user_configured = true;
    }
    if (worker.contains("sandbox")) out.sandbox = read_bool(worker["sandbox"], "/worker/sandbox");
    if (worker.contains("heap_mb")) out.heap_mb = read_integer(worker["heap_mb"], "/worker/heap_mb", 16, 65536);
    if (worker.contains("memory_mb")) out.memory_mb = read_integer(worker["memory_mb"], "/worker/memory_mb", 32, 1048576);
    if (worker.contains("cpu_limit_ms")) {
      out.cpu_limit_ms = static_cast<uint32_t>(read_integer(worker["cpu_limit_ms"], "/worker/cpu_limit_ms", 50, 3600000));
    }
    if (worker.contains("open_files")) out.open_files = read_integer(worker["open_files"], "/worker/open_files", 64, 1048576);
    if (worker.contains("processes")) out.processes = read_integer(worker["processes"], "/worker/processes", 16, 1048576);
    if (worker.contains("address_space_mb")) {
      out.address_space_mb = read_integer(worker["address_space_mb"], "/worker/address_space_mb", 1024, 1048576);
    }
    if (worker.contains("max_restarts")) {
      out.max_restarts = static_cast<uint32_t>(read_integer(worker["max_restarts"], "/worker/max_restarts", 0, 1000));
    }
  }
  if (document.contains("egress")) config.egress = read_egress_defaults(document["egress"], "/egress");
  if (document.contains("timeouts")) {
    const auto& timeouts = document["timeouts"];
    require_object(timeouts, "/timeouts");
    reject_unknown_fields(timeouts, "/timeouts", {"open_ms", "close_ms", "drain_ms"});
    auto read_timeout = [&](std::string_view key, uint32_t& field) {
      if (timeouts.contains(key)) {
        field = static_cast<uint32_t>(read_integer(timeouts[std::string(key)], child_path("/timeouts", key), 1, kMaxTimeoutMs));
      }
    };
    read_timeout("open_ms", config.open_timeout_ms);
    read_timeout("close_ms", config.close_timeout_ms);
    read_timeout("drain_ms", config.drain_timeout_ms);
  }
  finish_config(config);
  return config;
}

}  // namespace policy
