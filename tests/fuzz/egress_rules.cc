// `connect` entries come from folder writers (manifests), handler code
// (`access` exports) and the operator (a tenant's `egress` cap); the hosts
// asked for come from handler code. Input, split at NUL bytes: the
// manifest's entries, the access export's entries (one per line each), then
// a host and a port as handler code would ask ("host\nport").
// Properties: an entry either fails with a message naming it or parses into
// a rule whose canonical text parses back into the same rule; a second
// layer never admits what the first refused (access narrows, never widens);
// a name or `public` never admits an address that is not name-safe; and a
// name whose answers include one refused address is refused whole.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "policy/egress_rules.h"

namespace {

using policy::EgressRefusal;
using policy::IpAddress;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::vector<policy::EgressRule> rules_of(std::string_view text) {
  std::vector<policy::EgressRule> rules;
  for (auto line : split(text, '\n')) {
    if (rules.size() >= 16) break;
    std::string error;
    auto rule = policy::parse_egress_rule(line, error);
    if (!rule) {
      FUZZ_CHECK(!error.empty() && error.front() == '\'');
      continue;
    }
    std::string again_error;
    auto again = policy::parse_egress_rule(rule->to_string(), again_error);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *rule);
    rules.push_back(std::move(*rule));
  }
  return rules;
}

IpAddress address(const char* text) { return *IpAddress::parse(text); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parts = split(input, '\0');
  while (parts.size() < 3) parts.emplace_back();
  auto manifest_rules = rules_of(parts[0]);
  auto access_rules = rules_of(parts[1]);

  policy::EgressPolicy manifest_only;
  manifest_only.add_layer(policy::EgressRuleSet(manifest_rules));
  policy::EgressPolicy narrowed = manifest_only;
  narrowed.add_layer(policy::EgressRuleSet(access_rules));

  // What handler code asks for: a host and maybe a port.
  auto probe = split(parts[2], '\n');
  std::optional<uint16_t> port;
  if (probe.size() > 1) {
    uint16_t value = 0;
    if (policy::parse_port(probe[1], value)) port = value;
  }
  std::string error;
  auto host = policy::parse_egress_host(probe[0], error);
  policy::CidrSet host_addresses(std::vector<policy::Cidr>{{address("192.0.2.7"), 32}});
  std::vector<IpAddress> answers = {address("127.0.0.1"), address("10.1.2.3"), address("169.254.169.254"),
                                    address("8.8.8.8"), address("2606:4700::1"), address("::ffff:127.0.0.1"),
                                    address("64:ff9b::a01:203"), address("2002:a01:203::1"), address("100.64.0.1"),
                                    address("fe80::1"), address("192.0.2.7")};
  if (host && host->address) answers.push_back(*host->address);

  for (const auto& answer : answers) {
    auto wide = manifest_only.check_address(answer, port, host_addresses);
    auto narrow = narrowed.check_address(answer, port, host_addresses);
    if (narrow == EgressRefusal::none) FUZZ_CHECK(wide == EgressRefusal::none);
  }
  if (host && !host->address) {
    const std::string& name = host->name;
    if (narrowed.check_name(name, port) == EgressRefusal::none) {
      FUZZ_CHECK(manifest_only.check_name(name, port) == EgressRefusal::none);
    }
    for (const auto& answer : answers) {
      IpAddress one[] = {answer};
      auto refusal = narrowed.check_answers(name, port, one, host_addresses);
      if (refusal == EgressRefusal::none) {
        FUZZ_CHECK(manifest_only.check_answers(name, port, one, host_addresses) == EgressRefusal::none);
        // Reached by name, only through an IP/CIDR entry may it be special.
        if (!policy::name_safe(answer, host_addresses)) {
          FUZZ_CHECK(narrowed.check_address(answer, port, host_addresses) == EgressRefusal::none);
        }
      }
    }
    // One refused answer refuses the whole name.
    auto all = narrowed.check_answers(name, port, answers, host_addresses);
    for (const auto& answer : answers) {
      IpAddress one[] = {answer};
      if (narrowed.check_answers(name, port, one, host_addresses) != EgressRefusal::none) {
        FUZZ_CHECK(all != EgressRefusal::none);
      }
    }
  }
  return 0;
}
