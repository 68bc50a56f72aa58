#pragma once
// The broker's configuration file (portbroker.json): defaults, strict parsing,
// and the precedence rule (command line over file over defaults) lives with the
// caller. docs/configuration.md lists every field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/screening.h"

namespace policy {

inline constexpr std::string_view kDefaultConfigPath = "/etc/portbroker/portbroker.json";
inline constexpr uint64_t kMaxConfigBytes = 1 << 20;

struct BrokerConfig {
  std::string handlers_dir = "/etc/portbroker/handlers";
  std::string run_dir = "/run/portbroker";
  std::string state_dir = "/var/lib/portbroker";
  std::string log_level = "info";
  bool firewall_enabled = true;
  // An existing chain to insert tagged accept rules for the declared ports
  // into (hosts whose own firewall drops by default).
  struct Chain {
    std::string family;
    std::string table;
    std::string chain;
  };
  std::optional<Chain> firewall_accept_in;
  // Defaults for handlers without a manifest (or without a field in it), and
  // the bounds of per-source state.
  ScreeningDefaults screening;
  // Loading the module and awaiting open(ctx) must finish within this.
  uint32_t open_timeout_ms = 10000;
  // close(ctx) is awaited at most this long at unload or shutdown.
  uint32_t close_timeout_ms = 5000;
  // After close(ctx), open connections get this long to finish at shutdown.
  uint32_t drain_timeout_ms = 5000;
};

// Throws JsonFieldError naming the JSON path of the first invalid field.
BrokerConfig parse_broker_config(std::string_view text);

}  // namespace policy
