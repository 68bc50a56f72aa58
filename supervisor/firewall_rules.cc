#include "supervisor/firewall_rules.h"

#include <algorithm>

#include "supervisor/firewall_egress_rules.h"

namespace supervisor {
namespace {

using nlohmann::json;

json table_ref() { return {{"family", "inet"}, {"name", kFirewallTable}}; }

json element(const policy::Cidr& cidr) {
  return {{"prefix", {{"addr", cidr.network.to_string()}, {"len", cidr.prefix}}}};
}

std::string set_name(const FirewallPort& port, const char* what, bool v4) {
  return std::string(policy::transport_name(port.transport)) + "_" + std::to_string(port.port) + "_" + what +
         (v4 ? "4" : "6");
}

// nftables refuses a transaction whose interval set has overlapping elements
// ("conflicting intervals specified"), which a list may well have: blocks
// written inside others, or a PROXY port's balancers inside its allow list.
// Two CIDR blocks either nest or are apart, so dropping every block another
// one covers (the first of equal ones stays) leaves no overlap.
bool covered_by_another(const std::vector<policy::Cidr>& cidrs, size_t index) {
  for (size_t other = 0; other < cidrs.size(); ++other) {
    if (other == index || cidrs[other].network.is_v4 != cidrs[index].network.is_v4) continue;
    if (!cidrs[other].covers(cidrs[index])) continue;
    bool equal = cidrs[index].covers(cidrs[other]);
    if (!equal || other < index) return true;
  }
  return false;
}

json add_set(const std::string& name, bool v4, const std::vector<policy::Cidr>& cidrs) {
  json set = {{"family", "inet"}, {"table", kFirewallTable}, {"name", name},
              {"type", v4 ? "ipv4_addr" : "ipv6_addr"}, {"flags", json::array({"interval"})}};
  json elements = json::array();
  for (size_t i = 0; i < cidrs.size(); ++i) {
    if (cidrs[i].network.is_v4 == v4 && !covered_by_another(cidrs, i)) elements.push_back(element(cidrs[i]));
  }
  if (!elements.empty()) set["elem"] = elements;
  return {{"add", {{"set", set}}}};
}

json match(const std::string& op, json left, json right) {
  return {{"match", {{"op", op}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}

json payload(const char* protocol, const char* field) {
  return {{"payload", {{"protocol", protocol}, {"field", field}}}};
}

// dport == port, saddr (not) in @set, then `verdict`. For TCP only new
// connections are screened: a manifest narrowed live applies to new
// connections and leaves open ones running (the supervisor screens every
// UDP datagram anyway, so UDP rules apply to each packet).
json rule(const FirewallPort& port, bool v4, const std::string& op, const std::string& set, const char* verdict) {
  json expr = json::array({
      match("==", payload(std::string(policy::transport_name(port.transport)).c_str(), "dport"), port.port),
      match(op, payload(v4 ? "ip" : "ip6", "saddr"), "@" + set),
  });
  if (port.transport == policy::Transport::tcp) {
    expr.push_back(match("in", {{"ct", {{"key", "state"}}}}, "new"));
  }
  expr.push_back({{"counter", nullptr}});
  expr.push_back({{verdict, nullptr}});
  return {{"add", {{"rule", {{"family", "inet"}, {"table", kFirewallTable}, {"chain", "screen"}, {"expr", expr}}}}}};
}

void delete_tagged(json& commands, const std::optional<OperatorChain>& accept_in, const std::vector<uint64_t>& handles) {
  if (!accept_in) return;
  for (uint64_t handle : handles) {
    commands.push_back({{"delete", {{"rule", {{"family", accept_in->family}, {"table", accept_in->table},
                                               {"chain", accept_in->chain}, {"handle", handle}}}}}});
  }
}

}  // namespace

FirewallPort firewall_port_for(policy::Transport transport, uint16_t port,
                               const std::optional<policy::Manifest>& manifest) {
  FirewallPort screened{transport, port, {}, false, {}, {}};
  if (!manifest) return screened;
  const auto& proxy = manifest->proxy_protocol;
  if (proxy) screened.trusted = proxy->trusted;
  if (proxy && !proxy->allow_direct) {
    // Only balancers may connect at all; their clients' lists are applied
    // by the supervisor to the addresses the headers declare.
    screened.has_allow = true;
    screened.allow = proxy->trusted;
    return screened;
  }
  screened.has_allow = manifest->allow.has_value();
  if (screened.has_allow) {
    screened.allow = *manifest->allow;
    if (proxy) screened.allow.insert(screened.allow.end(), proxy->trusted.begin(), proxy->trusted.end());
  }
  screened.deny = manifest->deny;
  return screened;
}

json build_firewall_batch(const std::vector<FirewallPort>& ports, const std::vector<policy::EgressRule>& egress,
                          const std::optional<OperatorChain>& accept_in, const std::vector<uint64_t>& stale_tagged_handles) {
  json commands = json::array();
  // add + delete + add: replaces a stale table atomically, and works when
  // there was none.
  commands.push_back({{"add", {{"table", table_ref()}}}});
  commands.push_back({{"delete", {{"table", table_ref()}}}});
  commands.push_back({{"add", {{"table", table_ref()}}}});
  // Runs before the usual filter chains (priority 0), so a drop here happens
  // whatever the host's own rules accept.
  commands.push_back({{"add", {{"chain", {{"family", "inet"}, {"table", kFirewallTable}, {"name", "screen"},
                                          {"type", "filter"}, {"hook", "input"}, {"prio", -10},
                                          {"policy", "accept"}}}}}});
  json tcp_ports = json::array();
  json udp_ports = json::array();
  for (const auto& port : ports) (port.transport == policy::Transport::tcp ? tcp_ports : udp_ports).push_back(port.port);
  for (const auto& [name, list] : {std::pair<const char*, json&>{"tcp_ports", tcp_ports}, {"udp_ports", udp_ports}}) {
    json set = {{"family", "inet"}, {"table", kFirewallTable}, {"name", name}, {"type", "inet_service"}};
    if (!list.empty()) set["elem"] = list;
    commands.push_back({{"add", {{"set", set}}}});
  }
  for (const auto& port : ports) {
    for (bool v4 : {true, false}) {
      bool has_trusted = std::any_of(port.trusted.begin(), port.trusted.end(),
                                     [&](const policy::Cidr& cidr) { return cidr.network.is_v4 == v4; });
      if (has_trusted) {
        std::string trusted = set_name(port, "trusted", v4);
        commands.push_back(add_set(trusted, v4, port.trusted));
        commands.push_back(rule(port, v4, "==", trusted, "accept"));
      }
      if (port.has_allow) {
        std::string allow = set_name(port, "allow", v4);
        commands.push_back(add_set(allow, v4, port.allow));
        commands.push_back(rule(port, v4, "!=", allow, "drop"));
      }
      if (!port.deny.empty()) {
        std::string deny = set_name(port, "deny", v4);
        commands.push_back(add_set(deny, v4, port.deny));
        commands.push_back(rule(port, v4, "==", deny, "drop"));
      }
    }
  }
  add_egress_chain(commands, egress);
  delete_tagged(commands, accept_in, stale_tagged_handles);
  if (accept_in) {
    for (const auto& [protocol, list] : {std::pair<const char*, json&>{"tcp", tcp_ports}, {"udp", udp_ports}}) {
      if (list.empty()) continue;
      json expr = json::array({match("==", payload(protocol, "dport"), {{"set", list}}), {{"accept", nullptr}}});
      commands.push_back({{"insert", {{"rule", {{"family", accept_in->family}, {"table", accept_in->table},
                                                 {"chain", accept_in->chain}, {"comment", kFirewallTag},
                                                 {"expr", expr}}}}}});
    }
  }
  return {{"nftables", commands}};
}

json build_firewall_removal(const std::optional<OperatorChain>& accept_in, const std::vector<uint64_t>& handles) {
  json commands = json::array();
  commands.push_back({{"add", {{"table", table_ref()}}}});
  commands.push_back({{"delete", {{"table", table_ref()}}}});
  delete_tagged(commands, accept_in, handles);
  return {{"nftables", commands}};
}

std::vector<uint64_t> tagged_rule_handles(const json& listing) {
  std::vector<uint64_t> handles;
  if (!listing.is_object() || !listing.contains("nftables") || !listing["nftables"].is_array()) return handles;
  for (const auto& item : listing["nftables"]) {
    if (!item.is_object() || !item.contains("rule")) continue;
    const auto& rule = item["rule"];
    if (rule.value("comment", "") == kFirewallTag && rule.contains("handle") && rule["handle"].is_number_unsigned()) {
      handles.push_back(rule["handle"].get<uint64_t>());
    }
  }
  return handles;
}

}  // namespace supervisor
