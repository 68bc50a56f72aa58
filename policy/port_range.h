#pragma once
// Ports and inclusive port ranges as the operator and manifests write them
// ("8443", "20000-20999"): tenants' port allowances and egress destinations.

#include <cstdint>
#include <string>
#include <string_view>

namespace policy {

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool contains(uint16_t port) const { return port >= first && port <= last; }
  bool overlaps(const PortRange& other) const { return first <= other.last && other.first <= last; }
  bool covers(const PortRange& other) const { return first <= other.first && other.last <= last; }
  // "8443" or "20000-20999".
  std::string to_string() const;
  bool operator==(const PortRange&) const = default;
};

// A canonical decimal port 1-65535 (no sign, no leading zero, no spaces).
bool parse_port(std::string_view text, uint16_t& port);
// "443" or "8000-8100" (first at most last); nothing else.
bool parse_port_range(std::string_view text, PortRange& range);

}  // namespace policy
