#pragma once
// A handler's effective egress: the destinations (its manifest's `connect`,
// narrowed by its module's `access` and by its tenant's `egress` cap) and
// the limits on its outbound connections (the config's defaults, or the
// manifest's `connectLimits` up to the config's ceilings, lowered by
// `access`). Pure logic, as policy/screening.h is for inbound connections.

#include <cstdint>
#include <string>
#include <vector>

#include "policy/egress_rules.h"
#include "policy/manifest.h"

namespace policy {

// The config's `egress` section; docs/egress.md says why each default is
// what it is.
struct EgressDefaults {
  // Per handler, unless its manifest says otherwise.
  uint32_t concurrent = 64;
  uint32_t per_second = 50;
  // The most a manifest may ask for.
  uint32_t max_concurrent = 1024;
  uint32_t max_per_second = 1000;
  // A connect (every address of a name together) must finish within this.
  uint32_t connect_timeout_ms = 10000;
  // A name must resolve within this.
  uint32_t lookup_timeout_ms = 5000;
  bool operator==(const EgressDefaults&) const = default;
};

struct EffectiveEgress {
  EgressPolicy policy;
  uint32_t concurrent = 0;
  uint32_t per_second = 0;
  // The lists as written, for status: the manifest's, then access's, then the tenant's cap.
  std::vector<std::string> connect;
  std::vector<std::string> access;
  std::vector<std::string> tenant_cap;
  bool capped_by_tenant = false;
};

// `tenant_cap`: null for the operator's handlers (no cap); a tenant's
// `egress` list otherwise, where an empty or absent list allows nothing.
// `warnings` gets what the ceilings cut.
EffectiveEgress effective_egress(const std::optional<Manifest>& manifest, const std::vector<EgressRule>* tenant_cap,
                                 const EgressDefaults& defaults, std::vector<std::string>& warnings);

// Applies a module's `access` export: its `connect` list becomes one more
// layer (a destination must pass both), its limits apply when lower. Entries
// and limits that could only widen are described in the result.
std::vector<std::string> tighten_egress(EffectiveEgress& egress, const Manifest& access);

}  // namespace policy
