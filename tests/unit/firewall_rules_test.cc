#include <doctest/doctest.h>

#include <map>
#include <string>

#include "policy/egress_rules.h"
#include "policy/ip_address.h"
#include "supervisor/firewall_egress_rules.h"
#include "supervisor/firewall_rules.h"
#include "tests/unit/address_literals.h"

using nlohmann::json;
using supervisor::build_firewall_batch;
using supervisor::build_firewall_removal;
using supervisor::FirewallPort;
using supervisor::OperatorChain;

namespace {

// The commands of a batch, as "verb kind" strings in order.
std::vector<std::string> shape(const json& batch) {
  std::vector<std::string> out;
  for (const auto& command : batch["nftables"]) {
    for (const char* verb : {"add", "delete", "insert"}) {
      if (!command.contains(verb)) continue;
      for (const char* kind : {"table", "chain", "set", "rule"}) {
        if (command[verb].contains(kind)) out.push_back(std::string(verb) + " " + kind);
      }
    }
  }
  return out;
}

// The rules added to `chain`: the input screening by default.
std::vector<json> rules(const json& batch, const std::string& chain = "screen") {
  std::vector<json> out;
  for (const auto& command : batch["nftables"]) {
    if (command.contains("add") && command["add"].contains("rule") && command["add"]["rule"]["chain"] == chain) {
      out.push_back(command["add"]["rule"]);
    }
  }
  return out;
}

std::vector<policy::EgressRule> egress_list(std::initializer_list<const char*> entries) {
  std::vector<policy::EgressRule> list;
  for (const char* entry : entries) {
    std::string error;
    auto rule = policy::parse_egress_rule(entry, error);
    REQUIRE_MESSAGE(rule, error);
    list.push_back(*rule);
  }
  return list;
}

// Compact text of a rule's expressions, to compare with what nft would say.
std::string text_of(const json& rule) { return rule["expr"].dump(); }

}  // namespace

TEST_CASE("the table is replaced atomically: add, delete, add, then the chain") {
  auto batch = build_firewall_batch({}, {}, std::nullopt, {});
  auto commands = shape(batch);
  REQUIRE(commands.size() >= 4);
  CHECK(commands[0] == "add table");
  CHECK(commands[1] == "delete table");
  CHECK(commands[2] == "add table");
  CHECK(commands[3] == "add chain");
  const auto& chain = batch["nftables"][3]["add"]["chain"];
  CHECK(chain["hook"] == "input");
  CHECK(chain["policy"] == "accept");
  CHECK(chain["prio"].get<int>() < 0);
}

TEST_CASE("a port without a manifest gets no screening rules, only its place in the port set") {
  auto batch = build_firewall_batch({FirewallPort{policy::Transport::tcp, 7000, {}, false, {}, {}}}, {}, std::nullopt, {});
  CHECK(rules(batch).empty());
  bool listed = false;
  for (const auto& command : batch["nftables"]) {
    if (command.contains("add") && command["add"].contains("set") && command["add"]["set"]["name"] == "tcp_ports") {
      listed = command["add"]["set"]["elem"] == json::array({7000});
    }
  }
  CHECK(listed);
}

TEST_CASE("allow and deny become sets per family and drop rules on the port") {
  FirewallPort port{policy::Transport::udp, 9000, {cidr("10.0.0.0/8"), cidr("2001:db8::/32")}, true, {cidr("10.9.0.0/16")}, {}};
  auto batch = build_firewall_batch({port}, {}, std::nullopt, {});
  auto all = rules(batch);
  // allow v4, deny v4, allow v6, deny v6
  REQUIRE(all.size() == 4);
  for (const auto& rule : all) {
    CHECK(rule["chain"] == "screen");
    CHECK(rule["expr"][0]["match"]["left"]["payload"]["protocol"] == "udp");
    CHECK(rule["expr"][0]["match"]["right"] == 9000);
    CHECK(rule["expr"].back().contains("drop"));
  }
  CHECK(all[0]["expr"][1]["match"]["op"] == "!=");
  CHECK(all[0]["expr"][1]["match"]["right"] == "@udp_9000_allow4");
  CHECK(all[1]["expr"][1]["match"]["op"] == "==");
  CHECK(all[1]["expr"][1]["match"]["right"] == "@udp_9000_deny4");
  CHECK(all[2]["expr"][1]["match"]["left"]["payload"]["protocol"] == "ip6");
  // An IPv6 allow set holds only the IPv6 blocks; with no IPv6 deny entries
  // the v6 deny set is still declared, empty.
  for (const auto& command : batch["nftables"]) {
    if (!command.contains("add") || !command["add"].contains("set")) continue;
    const auto& set = command["add"]["set"];
    if (set["name"] == "udp_9000_allow6") {
      CHECK(set["elem"] == json::array({{{"prefix", {{"addr", "2001:db8::"}, {"len", 32}}}}}));
    }
    if (set["name"] == "udp_9000_deny6") CHECK_FALSE(set.contains("elem"));
  }
}

TEST_CASE("an empty allow list drops every source") {
  FirewallPort port{policy::Transport::tcp, 7000, {}, true, {}, {}};
  auto all = rules(build_firewall_batch({port}, {}, std::nullopt, {}));
  REQUIRE(all.size() == 2);
  CHECK(all[0]["expr"][1]["match"]["op"] == "!=");
  CHECK(all[1]["expr"][1]["match"]["op"] == "!=");
}

TEST_CASE("TCP rules screen new connections only; UDP rules every datagram") {
  FirewallPort tcp{policy::Transport::tcp, 7000, {}, false, {cidr("10.9.0.0/16")}, {}};
  FirewallPort udp{policy::Transport::udp, 9000, {}, false, {cidr("10.9.0.0/16")}, {}};
  for (const auto& rule : rules(build_firewall_batch({tcp}, {}, std::nullopt, {}))) {
    REQUIRE(rule["expr"].size() == 5);
    CHECK(rule["expr"][2]["match"]["left"] == json{{"ct", {{"key", "state"}}}});
    CHECK(rule["expr"][2]["match"]["right"] == "new");
  }
  for (const auto& rule : rules(build_firewall_batch({udp}, {}, std::nullopt, {}))) {
    CHECK(rule["expr"].size() == 4);
    CHECK_FALSE(rule["expr"].dump().find("\"ct\"") != std::string::npos);
  }
}

TEST_CASE("tagged accept rules: old ones deleted by handle, new ones inserted per protocol") {
  OperatorChain chain{"inet", "filter", "input"};
  std::vector<FirewallPort> ports = {{policy::Transport::tcp, 7000, {}, false, {}, {}},
                                     {policy::Transport::tcp, 7001, {}, false, {}, {}},
                                     {policy::Transport::udp, 9000, {}, false, {}, {}}};
  auto batch = build_firewall_batch(ports, {}, chain, {12, 15});
  std::vector<json> deletes;
  std::vector<json> inserts;
  for (const auto& command : batch["nftables"]) {
    if (command.contains("delete") && command["delete"].contains("rule")) deletes.push_back(command["delete"]["rule"]);
    if (command.contains("insert")) inserts.push_back(command["insert"]["rule"]);
  }
  REQUIRE(deletes.size() == 2);
  CHECK(deletes[0]["handle"] == 12);
  CHECK(deletes[1]["table"] == "filter");
  REQUIRE(inserts.size() == 2);
  CHECK(inserts[0]["comment"] == "portbroker");
  CHECK(inserts[0]["expr"][0]["match"]["right"]["set"] == json::array({7000, 7001}));
  CHECK(inserts[1]["expr"][0]["match"]["left"]["payload"]["protocol"] == "udp");
  CHECK(inserts[1]["expr"].back().contains("accept"));
}

TEST_CASE("removal deletes the table and the tagged rules only") {
  auto batch = build_firewall_removal(OperatorChain{"ip", "host", "in"}, {7});
  CHECK(shape(batch) == std::vector<std::string>{"add table", "delete table", "delete rule"});
  CHECK(batch["nftables"][2]["delete"]["rule"]["handle"] == 7);
}

TEST_CASE("tagged rule handles are read from a chain listing") {
  json listing = json::parse(R"({"nftables": [
    {"metainfo": {"version": "1.0.6"}},
    {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "expr": []}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 9, "comment": "portbroker", "expr": []}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 11, "comment": "other", "expr": []}}
  ]})");
  CHECK(supervisor::tagged_rule_handles(listing) == std::vector<uint64_t>{9});
  CHECK(supervisor::tagged_rule_handles(json::parse("[]")).empty());
  CHECK(supervisor::tagged_rule_handles(json::parse(R"({"nftables": "x"})")).empty());
}

namespace {

std::optional<policy::Manifest> manifest(const char* text) { return policy::parse_manifest(text, policy::Transport::tcp); }

std::vector<std::string> blocks(const std::vector<policy::Cidr>& cidrs) {
  std::vector<std::string> out;
  for (const auto& c : cidrs) out.push_back(c.to_string());
  return out;
}

}  // namespace

TEST_CASE("firewall_port_for: without proxyProtocol, the manifest's lists as written") {
  auto port = supervisor::firewall_port_for(policy::Transport::tcp, 7000, std::nullopt);
  CHECK_FALSE(port.has_allow);
  CHECK(port.deny.empty());
  CHECK(port.trusted.empty());
  port = supervisor::firewall_port_for(policy::Transport::tcp, 7000,
                                       manifest(R"({"allow": ["10.0.0.0/8"], "deny": ["10.9.0.0/16"]})"));
  CHECK(port.has_allow);
  CHECK(blocks(port.allow) == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(blocks(port.deny) == std::vector<std::string>{"10.9.0.0/16"});
  CHECK(port.trusted.empty());
}

TEST_CASE("firewall_port_for: with proxyProtocol the kernel admits the balancers; clients are screened above it") {
  // Without allowDirect only the balancers may connect; the client lists are
  // the supervisor's, applied to declared addresses (a balancer inside a
  // denied block still gets through).
  auto port = supervisor::firewall_port_for(
      policy::Transport::tcp, 7000,
      manifest(R"({"allow": ["192.0.2.0/24"], "deny": ["10.0.0.0/8"], "proxyProtocol": {"trusted": ["10.0.0.5", "fd00::/64"]}})"));
  CHECK(port.has_allow);
  CHECK(blocks(port.allow) == std::vector<std::string>{"10.0.0.5/32", "fd00::/64"});
  CHECK(port.deny.empty());
  CHECK(blocks(port.trusted) == std::vector<std::string>{"10.0.0.5/32", "fd00::/64"});

  // allowDirect: direct clients under allow and deny, balancers always.
  port = supervisor::firewall_port_for(
      policy::Transport::tcp, 7000,
      manifest(R"({"allow": ["192.0.2.0/24"], "deny": ["10.0.0.0/8"],
                   "proxyProtocol": {"trusted": ["10.0.0.5"], "allowDirect": true}})"));
  CHECK(port.has_allow);
  CHECK(blocks(port.allow) == std::vector<std::string>{"192.0.2.0/24", "10.0.0.5/32"});
  CHECK(blocks(port.deny) == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(blocks(port.trusted) == std::vector<std::string>{"10.0.0.5/32"});

  port = supervisor::firewall_port_for(
      policy::Transport::tcp, 7000, manifest(R"({"proxyProtocol": {"trusted": ["10.0.0.5"], "allowDirect": true}})"));
  CHECK_FALSE(port.has_allow);
}

TEST_CASE("trusted balancers are accepted before the port's allow and deny rules") {
  auto port = supervisor::firewall_port_for(
      policy::Transport::tcp, 7000,
      manifest(R"({"deny": ["10.0.0.0/8"], "proxyProtocol": {"trusted": ["10.0.0.5"], "allowDirect": true}})"));
  auto batch = build_firewall_batch({port}, {}, std::nullopt, {});
  auto all = rules(batch);
  // v4: trusted accept, then deny; v6 has no trusted block and no deny entry,
  // but the deny rule is there for the family as before.
  REQUIRE(all.size() >= 2);
  CHECK(all[0]["expr"][1]["match"]["op"] == "==");
  CHECK(all[0]["expr"][1]["match"]["right"] == "@tcp_7000_trusted4");
  CHECK(all[0]["expr"][2]["match"]["right"] == "new");
  CHECK(all[0]["expr"].back().contains("accept"));
  CHECK(all[1]["expr"][1]["match"]["right"] == "@tcp_7000_deny4");
  CHECK(all[1]["expr"].back().contains("drop"));
  bool trusted_set = false;
  for (const auto& command : batch["nftables"]) {
    if (command.contains("add") && command["add"].contains("set") && command["add"]["set"]["name"] == "tcp_7000_trusted4") {
      trusted_set = command["add"]["set"]["elem"][0]["prefix"]["addr"] == "10.0.0.5";
    }
  }
  CHECK(trusted_set);
  for (const auto& rule : all) CHECK(rule["expr"][1]["match"]["right"] != "@tcp_7000_trusted6");
}

TEST_CASE("blocks inside other blocks of a set are left out: nftables refuses overlapping intervals") {
  FirewallPort port{policy::Transport::tcp, 7000,
                    {cidr("10.0.0.0/8"), cidr("10.1.0.0/16"), cidr("10.0.0.0/8"), cidr("192.0.2.1"), cidr("2001:db8::/32"),
                     cidr("2001:db8::1")},
                    true, {cidr("192.0.2.0/25"), cidr("192.0.2.128/25")}, {cidr("10.0.0.5")}};
  auto batch = build_firewall_batch({port}, {}, std::nullopt, {});
  std::map<std::string, std::vector<std::string>> sets;
  for (const auto& command : batch["nftables"]) {
    if (!command.contains("add") || !command["add"].contains("set")) continue;
    const auto& set = command["add"]["set"];
    for (const auto& e : set.value("elem", json::array())) {
      if (e.contains("prefix")) {
        sets[set["name"]].push_back(e["prefix"]["addr"].get<std::string>() + "/" + std::to_string(e["prefix"]["len"].get<int>()));
      }
    }
  }
  CHECK(sets["tcp_7000_allow4"] == std::vector<std::string>{"10.0.0.0/8", "192.0.2.1/32"});
  CHECK(sets["tcp_7000_allow6"] == std::vector<std::string>{"2001:db8::/32"});
  // Adjacent blocks do not overlap: both stay.
  CHECK(sets["tcp_7000_deny4"] == std::vector<std::string>{"192.0.2.0/25", "192.0.2.128/25"});
  CHECK(sets["tcp_7000_trusted4"] == std::vector<std::string>{"10.0.0.5/32"});
}

TEST_CASE("egress: marked packets only, established ones pass, then explicit blocks, then the final reject") {
  auto batch = build_firewall_batch({}, egress_list({"10.1.0.0/16:6379", "10.1.2.3:6379", "[2001:db8::/32]:8000-8100"}),
                                    std::nullopt, {});
  auto egress = rules(batch, "egress");
  // mark, established, two blocks (10.1.2.3 is inside 10.1.0.0/16), final reject; no name rules.
  REQUIRE(egress.size() == 5);
  CHECK(text_of(egress[0]).find("\"mark\"") != std::string::npos);
  CHECK(text_of(egress[0]).find(std::to_string(supervisor::kEgressMark)) != std::string::npos);
  CHECK(text_of(egress[1]).find("established") != std::string::npos);
  CHECK(text_of(egress[2]).find("\"10.1.0.0\"") != std::string::npos);
  CHECK(text_of(egress[2]).find("6379") != std::string::npos);
  CHECK(text_of(egress[3]).find("\"2001:db8::\"") != std::string::npos);
  CHECK(text_of(egress[3]).find("[8000,8100]") != std::string::npos);
  CHECK(text_of(egress[4]) == R"([{"counter":null},{"reject":{"expr":"admin-prohibited","type":"icmpx"}}])");
  bool hooked = false;
  for (const auto& command : batch["nftables"]) {
    if (command.contains("add") && command["add"].contains("chain") && command["add"]["chain"]["name"] == "egress") {
      hooked = command["add"]["chain"]["hook"] == "output";
    }
  }
  CHECK(hooked);
}

TEST_CASE("egress: names and public admit non-special, non-local addresses on their merged ports") {
  auto batch = build_firewall_batch({}, egress_list({"api.example.com:443", "public:443", "*.example.org:8000-8100",
                                                     "db.internal:8050-9000"}), std::nullopt, {});
  auto egress = rules(batch, "egress");
  std::string all;
  for (const auto& rule : egress) all += text_of(rule) + "\n";
  CHECK(all.find("\"local\"") != std::string::npos);
  CHECK(all.find("@egress_special4") != std::string::npos);
  CHECK(all.find("@egress_special6") != std::string::npos);
  CHECK(all.find("\"2000::\"") != std::string::npos);
  CHECK(all.find("@egress_name_ports") != std::string::npos);
  for (const auto& command : batch["nftables"]) {
    if (!command.contains("add") || !command["add"].contains("set")) continue;
    const auto& set = command["add"]["set"];
    if (set["name"] == "egress_name_ports") {
      // 443, and 8000-8100 merged with 8050-9000: disjoint, as an interval set needs.
      CHECK(set["elem"].dump() == R"([443,{"range":[8000,9000]}])");
    }
    if (set["name"] == "egress_special4") {
      CHECK(set["elem"].dump().find("\"169.254.0.0\"") != std::string::npos);
      CHECK(set["elem"].dump().find("\"127.0.0.0\"") != std::string::npos);
    }
    if (set["name"] == "egress_special6") CHECK(set["elem"].dump().find("\"2002::\"") != std::string::npos);
  }
}

TEST_CASE("egress: with no list at all, every marked connection is refused") {
  auto egress = rules(build_firewall_batch({}, {}, std::nullopt, {}), "egress");
  REQUIRE(egress.size() == 3);
  CHECK(text_of(egress[2]) == R"([{"counter":null},{"reject":{"expr":"admin-prohibited","type":"icmpx"}}])");
}
