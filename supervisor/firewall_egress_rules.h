#pragma once
// The kernel's second line for egress (docs/egress.md): a chain on the
// output hook of the broker's table that screens the new connections the
// supervisor dials for handlers, which carry kEgressMark (SO_MARK). It
// admits what the union of the running handlers' `connect` lists could
// admit: each IP or CIDR entry with its ports, and, when some list has a
// name, wildcard or `public` entry, any address a name may lead to (not the
// host's own, not a special block) on those entries' ports. Everything else
// marked is rejected, so the connect fails (EHOSTUNREACH) even if the
// supervisor's own checks were wrong. Unmarked traffic (everything else on
// the host, the supervisor's own store connections) is not looked at.

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/egress_rules.h"

namespace supervisor {

// "pb" in the mark's high bits: distinct from marks routing setups use for
// small tables and zones.
inline constexpr uint32_t kEgressMark = 0x70620000;

// Adds the `egress` chain (and its sets) to a transaction that creates the
// broker's table; `rules` is the union of the lists (duplicates allowed).
void add_egress_chain(nlohmann::json& commands, const std::vector<policy::EgressRule>& rules);

}  // namespace supervisor
