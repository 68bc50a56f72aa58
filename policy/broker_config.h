#pragma once
// The broker's configuration file (portbroker.json): defaults, strict parsing,
// and the precedence rule (command line over file over defaults) lives with the
// caller. docs/configuration.md lists every field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/egress_settings.h"
#include "policy/screening.h"
#include "policy/store_backend.h"
#include "policy/tenant_config.h"
#include "policy/tls_settings.h"

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
  // Where Prometheus metrics are also served over HTTP ("127.0.0.1:9464",
  // "[::1]:9464"); none by default.
  struct ListenAddress {
    std::string host;  // an IP literal, without brackets
    uint16_t port = 0;
  };
  std::optional<ListenAddress> metrics_listen;
  // Where manifests may read TLS keys and certificates from, and the names
  // on-demand certificates may be issued for. Without key_dirs no manifest
  // may name a file; without domains none may ask for on-demand
  // certificates. A key directory may not be, hold or lie inside state_dir
  // (the local CA's key is there) or the handlers folder (handler code can
  // read it).
  TlsSources tls;
  // Tenants: folders of their own, port ranges, identities, quotas
  // (policy/tenant_config.h). Read by finish_config (from tenants_json)
  // once the folders are final; empty: a host without tenants.
  std::vector<TenantConfig> tenants;
  nlohmann::json tenants_json;
  // What backs ctx.shared: the embedded store (no `store` section), or a
  // Redis/Valkey server or Sentinel-managed master through the store relay.
  StoreBackendConfig store;
  // Defaults for handlers without a manifest (or without a field in it), and
  // the bounds of per-source state.
  ScreeningDefaults screening;
  // Outbound connections handlers make through the broker (docs/egress.md):
  // per-handler defaults, the ceilings manifests may ask up to, timeouts.
  EgressDefaults egress;
  // How workers (and the store) are confined and bounded.
  struct Worker {
    // The unprivileged user they run as. The packages create "portbroker";
    // when it is not configured and does not exist, "nobody" is used.
    std::string user = "portbroker";
    bool user_configured = false;
    bool sandbox = true;  // false only for debugging: status then says "unconfined"
    uint64_t heap_mb = 512;     // the engine's garbage-collected heap
    uint64_t memory_mb = 1024;  // resident memory of the whole worker, checked by its watchdog
    uint32_t cpu_limit_ms = 10000;  // longest a callback may run before the watchdog stops the worker
    uint64_t open_files = 4096;
    uint64_t processes = 16384;  // RLIMIT_NPROC: counts every thread of every process of the worker user
    uint64_t address_space_mb = 16384;
    uint32_t max_restarts = 5;  // crashes in a row (without a minute of stable running) before `failed`
  } worker;
  // The time slice the supervisor (and the store) ask the scheduler for, in
  // microseconds; 0 keeps the kernel's default (supervisor/latency_slice.h).
  uint32_t latency_slice_us = 100;
  // Loading the module and awaiting open(ctx) must finish within this.
  uint32_t open_timeout_ms = 10000;
  // close(ctx) is awaited at most this long at unload or shutdown.
  uint32_t close_timeout_ms = 5000;
  // After close(ctx), open connections get this long to finish at shutdown.
  uint32_t drain_timeout_ms = 5000;
};

// Throws JsonFieldError naming the JSON path of the first invalid field.
BrokerConfig parse_broker_config(std::string_view text);

// What depends on the folders once they are final: reads the tenants and
// checks that no key directory or tenant folder overlaps state_dir or
// another handlers folder. Throws JsonFieldError naming the field.
// parse_broker_config calls it; callers call it again after the command
// line changed a folder.
void finish_config(BrokerConfig& config);

}  // namespace policy
