#pragma once
// The linear CidrSet the range-based one replaced, kept as the reference the
// unit tests and the cidr fuzz target compare it with: obviously right, and
// quadratic, so only for small sets.

#include <vector>

#include "policy/ip_address.h"

namespace naive {

inline bool contains(const std::vector<policy::Cidr>& blocks, const policy::IpAddress& address) {
  for (const auto& block : blocks) {
    if (block.contains(address)) return true;
  }
  return false;
}

// Covered by one block, or else both halves covered (by the union); a half
// that no block lies inside cannot be covered, which ends the recursion.
inline bool covers(const std::vector<policy::Cidr>& blocks, const policy::Cidr& other) {
  for (const auto& block : blocks) {
    if (block.covers(other)) return true;
  }
  if (other.prefix >= other.network.bits()) return false;
  bool overlaps = false;
  for (const auto& block : blocks) overlaps = overlaps || other.covers(block);
  if (!overlaps) return false;
  policy::Cidr low{other.network, static_cast<uint8_t>(other.prefix + 1)};
  policy::Cidr high = low;
  high.network.bytes[other.prefix / 8] |= static_cast<uint8_t>(0x80 >> (other.prefix % 8));
  return covers(blocks, low) && covers(blocks, high);
}

}  // namespace naive
