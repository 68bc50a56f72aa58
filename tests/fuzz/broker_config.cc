// The broker config is written by root, but a typo must never take the
// broker down in an unexpected way, nor let a value outside its documented
// range through. Properties: parse_broker_config throws nothing but
// JsonFieldError, whose path is a JSON path; an accepted config holds values
// within the bounds docs/configuration.md gives.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "policy/broker_config.h"
#include "policy/ip_address.h"
#include "policy/json_fields.h"

namespace {

template <typename T>
bool within(T value, T low, T high) {
  return value >= low && value <= high;
}

bool absolute(const std::string& path) { return !path.empty() && path.front() == '/'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  policy::BrokerConfig config;
  try {
    config = policy::parse_broker_config(text);
  } catch (const policy::JsonFieldError& e) {
    FUZZ_CHECK(!e.path().empty() && e.path().front() == '/');
    FUZZ_CHECK(std::string_view(e.what()).starts_with(e.path() + ": "));
    return 0;
  } catch (...) {
    FUZZ_CHECK(!"parse_broker_config threw something other than JsonFieldError");
  }

  FUZZ_CHECK(absolute(config.handlers_dir) && absolute(config.run_dir) && absolute(config.state_dir));
  FUZZ_CHECK(config.log_level == "debug" || config.log_level == "info" || config.log_level == "warn" ||
             config.log_level == "error");
  if (config.firewall_accept_in) {
    const auto& chain = *config.firewall_accept_in;
    FUZZ_CHECK(chain.family == "inet" || chain.family == "ip" || chain.family == "ip6");
    FUZZ_CHECK(!chain.table.empty() && !chain.chain.empty());
  }
  if (config.metrics_listen) {
    FUZZ_CHECK(policy::IpAddress::parse(config.metrics_listen->host).has_value());
    FUZZ_CHECK(config.metrics_listen->port >= 1);
  }
  FUZZ_CHECK(config.latency_slice_us == 0 || within<uint32_t>(config.latency_slice_us, 100, 100000));

  const auto& s = config.screening;
  constexpr double kWeek = 604800;
  FUZZ_CHECK(within<uint32_t>(s.max_connections, 1, 1000000));
  FUZZ_CHECK(within<uint32_t>(s.max_connections_per_ip, 1, 1000000));
  FUZZ_CHECK(within<double>(s.tcp_idle_timeout_s, 1, kWeek));
  FUZZ_CHECK(within<double>(s.udp_session_timeout_s, 1, kWeek));
  FUZZ_CHECK(within<uint32_t>(s.udp_rate_limit.per_ip, 1, 1000000));
  FUZZ_CHECK(within<double>(s.udp_rate_limit.window_s, 1, kWeek));
  FUZZ_CHECK(within<uint32_t>(s.udp_reply_ratio, 1, 1000));
  FUZZ_CHECK(within<uint32_t>(s.udp_max_reply_rate, 1, 10000000));
  FUZZ_CHECK(within<unsigned>(s.ipv6_prefix, 16, 128));
  FUZZ_CHECK(within<size_t>(s.max_tracked_sources, 16, 10000000));

  const auto& w = config.worker;
  FUZZ_CHECK(!w.user.empty());
  FUZZ_CHECK(within<uint64_t>(w.heap_mb, 16, 65536));
  FUZZ_CHECK(within<uint64_t>(w.memory_mb, 32, 1048576));
  FUZZ_CHECK(within<uint32_t>(w.cpu_limit_ms, 50, 3600000));
  FUZZ_CHECK(within<uint64_t>(w.open_files, 64, 1048576));
  FUZZ_CHECK(within<uint64_t>(w.processes, 16, 1048576));
  FUZZ_CHECK(within<uint64_t>(w.address_space_mb, 1024, 1048576));
  FUZZ_CHECK(within<uint32_t>(w.max_restarts, 0, 1000));

  for (uint32_t timeout : {config.open_timeout_ms, config.close_timeout_ms, config.drain_timeout_ms}) {
    FUZZ_CHECK(within<uint32_t>(timeout, 1, 86400000));
  }

  // Tenants: valid names, disjoint ports, folders apart from each other and
  // from the operator's folder and state_dir, key directories apart from
  // every folder.
  auto overlap = [](const std::string& a, const std::string& b) {
    return policy::path_within(a, b) || policy::path_within(b, a);
  };
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const auto& t = config.tenants[i];
    FUZZ_CHECK(policy::tenant_name_valid(t.name));
    FUZZ_CHECK(!t.ports.empty());
    FUZZ_CHECK(!overlap(t.handlers_dir, config.handlers_dir) && !overlap(t.handlers_dir, config.state_dir));
    for (const auto& range : t.ports) FUZZ_CHECK(range.first >= 1 && range.first <= range.last);
    for (const auto& dir : t.tls.key_dirs) FUZZ_CHECK(!overlap(dir, config.state_dir) && !overlap(dir, t.handlers_dir));
    for (size_t j = 0; j < config.tenants.size(); ++j) {
      if (i == j) continue;
      const auto& u = config.tenants[j];
      FUZZ_CHECK(!overlap(t.handlers_dir, u.handlers_dir));
      for (const auto& a : t.ports) {
        for (const auto& b : u.ports) FUZZ_CHECK(!a.overlaps(b));
      }
    }
    for (const auto& dir : config.tls.key_dirs) FUZZ_CHECK(!overlap(dir, t.handlers_dir));
  }
  return 0;
}
