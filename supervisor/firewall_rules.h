#pragma once
// The nftables ruleset portbroker owns, as one libnftables JSON transaction:
// table `inet portbroker` replaced as a whole (add, delete, add: atomic even
// when it did not exist), sets of the declared ports, and per port the
// manifest's source screening, so denied and not-allowed sources are dropped
// before the TCP handshake completes. Optionally, accept rules tagged
// "portbroker" in a chain the operator names, for hosts whose own firewall
// drops by default; the old tagged rules are deleted in the same transaction.
// An output chain screens the connections the broker dials for handlers
// (supervisor/firewall_egress_rules.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/egress_rules.h"
#include "policy/screening.h"

namespace supervisor {

inline constexpr const char* kFirewallTable = "portbroker";
inline constexpr const char* kFirewallTag = "portbroker";

struct FirewallPort {
  policy::Transport transport = policy::Transport::tcp;
  uint16_t port = 0;
  std::vector<policy::Cidr> allow;  // empty and !has_allow: every source
  bool has_allow = false;
  std::vector<policy::Cidr> deny;
  // PROXY protocol balancers: accepted before allow and deny are looked at,
  // since those lists are about the clients they relay.
  std::vector<policy::Cidr> trusted;
};

// What the kernel screens for a handler's port, from its manifest (none:
// every source). With proxyProtocol, the kernel sees balancers, not clients:
// it admits the trusted balancers, and direct clients only with allowDirect
// (then under allow and deny); the supervisor screens the declared clients.
FirewallPort firewall_port_for(policy::Transport transport, uint16_t port, const std::optional<policy::Manifest>& manifest);

struct OperatorChain {
  std::string family;
  std::string table;
  std::string chain;
};

// The commands that make the kernel match `ports`, and screen the broker's
// outbound connections by `egress` (the union of the running handlers'
// `connect` lists; supervisor/firewall_egress_rules.h). `stale_tagged_handles`
// are rule handles of earlier tagged rules in `accept_in`, to delete.
nlohmann::json build_firewall_batch(const std::vector<FirewallPort>& ports, const std::vector<policy::EgressRule>& egress,
                                    const std::optional<OperatorChain>& accept_in,
                                    const std::vector<uint64_t>& stale_tagged_handles);

// Removes the table and the tagged rules.
nlohmann::json build_firewall_removal(const std::optional<OperatorChain>& accept_in,
                                      const std::vector<uint64_t>& stale_tagged_handles);

// Handles of the rules tagged "portbroker" in a `list chain` JSON answer.
std::vector<uint64_t> tagged_rule_handles(const nlohmann::json& listing);

}  // namespace supervisor
