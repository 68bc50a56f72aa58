#pragma once
// Tenants, as the operator declares them in the broker's config:
//
//   "tenants": { "alice": { "handlers": "/srv/portbroker/alice", "ports": ["20000-20999", 8443],
//                           "user": "alice", "limits": {...}, "tls": {"key_dirs": [...], "domains": [...]} } }
//
// Pure and strict: every error names the tenant and field. What needs the
// system (a folder that exists, a user that exists, a free uid) is checked
// by the supervisor (supervisor/tenant/).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/egress_rules.h"
#include "policy/port_range.h"
#include "policy/tls_settings.h"

namespace policy {

// A tenant's name: a lower-case letter, then up to 31 lower-case letters,
// digits, '-' or '_'. Safe as a path component, a logfmt value, a store key
// prefix ("alice:") and part of a cgroup name.
bool tenant_name_valid(std::string_view name);

// Defaults (docs/tenants.md): enough for a real tenant, small enough that
// a host holds many.
struct TenantLimits {
  uint32_t handlers = 64;          // handler files served at once
  uint32_t connections = 10000;    // concurrent TCP connections, all its handlers
  uint64_t memory_mb = 4096;       // its workers together (cgroup)
  uint64_t store_mb = 64;          // its keys in the shared store
  uint32_t pids = 4096;            // processes and threads of its workers (cgroup)
  bool operator==(const TenantLimits&) const = default;
};

struct TenantConfig {
  std::string name;
  std::string handlers_dir;         // absolute, normal
  std::vector<PortRange> ports;     // disjoint, in the order written
  std::optional<std::string> user;  // none: a dedicated uid from portbroker's range
  TenantLimits limits;
  TlsSources tls;
  // What its handlers' `connect` lists may reach at most (the narrower
  // rule wins). Without it, nothing: a tenant's handlers get no egress
  // unless the operator grants it.
  std::vector<EgressRule> egress;
  bool allows_port(uint16_t port) const;
  // "20000-20999, 8443", for messages.
  std::string ports_text() const;
  bool operator==(const TenantConfig&) const = default;
};

// Reads the config's "tenants" object (`path` is its JSON path). Checks
// every field, that no two tenants' port ranges overlap, and that no
// tenant's folder or key directory overlaps another tenant's folder, the
// operator's handlers folder (`operator_dir`) or `state_dir`.
std::vector<TenantConfig> read_tenants(const nlohmann::json& tenants, const std::string& operator_dir,
                                       const std::string& state_dir);

}  // namespace policy
