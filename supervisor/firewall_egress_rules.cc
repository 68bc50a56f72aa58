#include "supervisor/firewall_egress_rules.h"

#include <algorithm>
#include <string>

#include "supervisor/firewall_rules.h"

namespace supervisor {
namespace {

using nlohmann::json;

json match(const std::string& op, json left, json right) {
  return {{"match", {{"op", op}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}

json payload(const char* protocol, const char* field) {
  return {{"payload", {{"protocol", protocol}, {"field", field}}}};
}

json prefix(const policy::Cidr& cidr) {
  return {{"prefix", {{"addr", cidr.network.to_string()}, {"len", cidr.prefix}}}};
}

json ports_json(const policy::PortRange& ports) {
  if (ports.first == ports.last) return ports.first;
  return {{"range", json::array({ports.first, ports.last})}};
}

json rule(json expr) {
  return {{"add", {{"rule", {{"family", "inet"}, {"table", kFirewallTable}, {"chain", "egress"}, {"expr", std::move(expr)}}}}}};
}

bool covers(const policy::EgressRule& outer, const policy::EgressRule& inner) {
  return outer.block.covers(inner.block) && outer.ports.covers(inner.ports);
}

// IP and CIDR entries, without those another one covers: one rule each.
std::vector<policy::EgressRule> distinct_blocks(const std::vector<policy::EgressRule>& rules) {
  std::vector<policy::EgressRule> blocks;
  for (const auto& rule : rules) {
    if (rule.target == policy::EgressTarget::block) blocks.push_back(rule);
  }
  std::vector<policy::EgressRule> kept;
  for (size_t i = 0; i < blocks.size(); ++i) {
    bool covered = false;
    for (size_t j = 0; j < blocks.size() && !covered; ++j) {
      if (i == j || blocks[i].block.network.is_v4 != blocks[j].block.network.is_v4) continue;
      // Of two equal entries the first stays.
      covered = covers(blocks[j], blocks[i]) && (!covers(blocks[i], blocks[j]) || j < i);
    }
    if (!covered) kept.push_back(blocks[i]);
  }
  return kept;
}

// The ports of the name, wildcard and `public` entries, merged into
// disjoint ranges (an interval set refuses overlapping elements).
std::vector<policy::PortRange> name_ports(const std::vector<policy::EgressRule>& rules) {
  std::vector<policy::PortRange> ranges;
  for (const auto& rule : rules) {
    if (rule.target != policy::EgressTarget::block) ranges.push_back(rule.ports);
  }
  std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<policy::PortRange> merged;
  for (const auto& range : ranges) {
    if (!merged.empty() && range.first <= static_cast<uint32_t>(merged.back().last) + 1) {
      merged.back().last = std::max(merged.back().last, range.last);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

// Rejected, not dropped: the dialer's connect fails at once (EHOSTUNREACH)
// instead of retrying its SYN until the connect timeout.
json refuse() { return {{"reject", {{"type", "icmpx"}, {"expr", "admin-prohibited"}}}}; }

json add_set(const char* name, const char* type, json elements) {
  json set = {{"family", "inet"}, {"table", kFirewallTable}, {"name", name}, {"type", type},
              {"flags", json::array({"interval"})}};
  if (!elements.empty()) set["elem"] = std::move(elements);
  return {{"add", {{"set", set}}}};
}

}  // namespace

void add_egress_chain(json& commands, const std::vector<policy::EgressRule>& rules) {
  // Before the host's own output filters (priority 0), as `screen` is for input.
  commands.push_back({{"add", {{"chain", {{"family", "inet"}, {"table", kFirewallTable}, {"name", "egress"},
                                          {"type", "filter"}, {"hook", "output"}, {"prio", -10},
                                          {"policy", "accept"}}}}}});
  json meta_mark = {{"meta", {{"key", "mark"}}}};
  commands.push_back(rule(json::array({match("!=", meta_mark, kEgressMark), {{"accept", nullptr}}})));
  // Only a connection's first packet is screened.
  commands.push_back(rule(json::array({match("in", {{"ct", {{"key", "state"}}}}, json::array({"established", "related"})),
                                       {{"accept", nullptr}}})));
  for (const auto& entry : distinct_blocks(rules)) {
    bool v4 = entry.block.network.is_v4;
    commands.push_back(rule(json::array({match("==", payload(v4 ? "ip" : "ip6", "daddr"), prefix(entry.block)),
                                         match("==", payload("tcp", "dport"), ports_json(entry.ports)),
                                         {{"accept", nullptr}}})));
  }
  auto ports = name_ports(rules);
  if (!ports.empty()) {
    // What a name may lead to: not the host's own addresses, no special block.
    commands.push_back(rule(json::array({match("==", {{"fib", {{"result", "type"}, {"flags", json::array({"daddr"})}}}}, "local"),
                                         {{"counter", nullptr}}, refuse()})));
    for (bool v4 : {true, false}) {
      json elements = json::array();
      for (const auto& block : policy::special_blocks(v4)) elements.push_back(prefix(block));
      const char* name = v4 ? "egress_special4" : "egress_special6";
      commands.push_back(add_set(name, v4 ? "ipv4_addr" : "ipv6_addr", elements));
      commands.push_back(rule(json::array({match("==", payload(v4 ? "ip" : "ip6", "daddr"), std::string("@") + name),
                                           {{"counter", nullptr}}, refuse()})));
    }
    std::string error;
    auto global = policy::parse_cidr(policy::kGlobalUnicastV6, error);
    commands.push_back(rule(json::array({match("!=", payload("ip6", "daddr"), prefix(*global)),
                                         {{"counter", nullptr}}, refuse()})));
    json port_elements = json::array();
    for (const auto& range : ports) port_elements.push_back(ports_json(range));
    commands.push_back(add_set("egress_name_ports", "inet_service", port_elements));
    commands.push_back(rule(json::array({match("==", payload("tcp", "dport"), "@egress_name_ports"),
                                         {{"accept", nullptr}}})));
  }
  commands.push_back(rule(json::array({{{"counter", nullptr}}, refuse()})));
}

}  // namespace supervisor
