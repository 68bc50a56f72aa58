#include <doctest/doctest.h>

#include <string>

#include "policy/ip_address.h"
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

std::vector<json> rules(const json& batch) {
  std::vector<json> out;
  for (const auto& command : batch["nftables"]) {
    if (command.contains("add") && command["add"].contains("rule")) out.push_back(command["add"]["rule"]);
  }
  return out;
}

}  // namespace

TEST_CASE("the table is replaced atomically: add, delete, add, then the chain") {
  auto batch = build_firewall_batch({}, std::nullopt, {});
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
  auto batch = build_firewall_batch({FirewallPort{policy::Transport::tcp, 7000, {}, false, {}}}, std::nullopt, {});
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
  FirewallPort port{policy::Transport::udp, 9000, {cidr("10.0.0.0/8"), cidr("2001:db8::/32")}, true, {cidr("10.9.0.0/16")}};
  auto batch = build_firewall_batch({port}, std::nullopt, {});
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
  FirewallPort port{policy::Transport::tcp, 7000, {}, true, {}};
  auto all = rules(build_firewall_batch({port}, std::nullopt, {}));
  REQUIRE(all.size() == 2);
  CHECK(all[0]["expr"][1]["match"]["op"] == "!=");
  CHECK(all[1]["expr"][1]["match"]["op"] == "!=");
}

TEST_CASE("TCP rules screen new connections only; UDP rules every datagram") {
  FirewallPort tcp{policy::Transport::tcp, 7000, {}, false, {cidr("10.9.0.0/16")}};
  FirewallPort udp{policy::Transport::udp, 9000, {}, false, {cidr("10.9.0.0/16")}};
  for (const auto& rule : rules(build_firewall_batch({tcp}, std::nullopt, {}))) {
    REQUIRE(rule["expr"].size() == 5);
    CHECK(rule["expr"][2]["match"]["left"] == json{{"ct", {{"key", "state"}}}});
    CHECK(rule["expr"][2]["match"]["right"] == "new");
  }
  for (const auto& rule : rules(build_firewall_batch({udp}, std::nullopt, {}))) {
    CHECK(rule["expr"].size() == 4);
    CHECK_FALSE(rule["expr"].dump().find("\"ct\"") != std::string::npos);
  }
}

TEST_CASE("tagged accept rules: old ones deleted by handle, new ones inserted per protocol") {
  OperatorChain chain{"inet", "filter", "input"};
  std::vector<FirewallPort> ports = {{policy::Transport::tcp, 7000, {}, false, {}},
                                     {policy::Transport::tcp, 7001, {}, false, {}},
                                     {policy::Transport::udp, 9000, {}, false, {}}};
  auto batch = build_firewall_batch(ports, chain, {12, 15});
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
