#include "policy/port_range.h"

namespace policy {

std::string PortRange::to_string() const {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

bool parse_port(std::string_view text, uint16_t& port) {
  if (text.empty() || text.size() > 5 || text.front() == '0') return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value < 1 || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

bool parse_port_range(std::string_view text, PortRange& range) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    if (!parse_port(text, range.first)) return false;
    range.last = range.first;
    return true;
  }
  return parse_port(text.substr(0, dash), range.first) && parse_port(text.substr(dash + 1), range.last) &&
         range.first <= range.last;
}

}  // namespace policy
