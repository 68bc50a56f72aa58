#pragma once
// IP addresses and CIDR blocks for source screening. An IPv4-mapped IPv6
// source (::ffff:10.1.2.3, what a dual-stack socket reports for IPv4 peers)
// matches IPv4 blocks.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

struct IpAddress {
  bool is_v4 = true;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(const uint8_t* four);
  static IpAddress v6(const uint8_t* sixteen);
  bool is_v4_mapped() const;
  // The IPv4 address of an IPv4-mapped IPv6 address; otherwise itself.
  IpAddress unmapped() const;
  std::string to_string() const;
  size_t bits() const { return is_v4 ? 32 : 128; }
  auto operator<=>(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress network;
  uint8_t prefix = 0;

  bool contains(const IpAddress& address) const;
  // True if every address of `other` is in this block.
  bool covers(const Cidr& other) const;
  std::string to_string() const;
  bool operator==(const Cidr&) const = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits
// set below the prefix are an error: "10.1.2.3/8" probably meant 10.0.0.0/8.
std::optional<Cidr> parse_cidr(std::string_view text, std::string& error);

// A set of CIDR blocks as sorted, merged address ranges (IPv4 and IPv6 apart),
// so that membership and coverage cost a binary search however the blocks
// overlap or adjoin. The blocks as written are kept for status.
class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(std::vector<Cidr> blocks);
  // An IPv4-mapped IPv6 address is in the set if its IPv4 address is in an
  // IPv4 block or the mapped address is in an IPv6 block (as Cidr::contains).
  bool contains(const IpAddress& address) const;
  // True if every address of `block` is in the union of the set's blocks of
  // its family (families never cover each other, as Cidr::covers).
  bool covers(const Cidr& block) const;
  const std::vector<Cidr>& blocks() const { return blocks_; }
  bool empty() const { return blocks_.empty(); }
  // How many disjoint, non-adjoining ranges the blocks merged into.
  size_t range_count() const { return v4_.size() + v6_.size(); }

 private:
  // A 128-bit address as a number; IPv4 uses the low 32 bits.
  struct Number {
    uint64_t high = 0;
    uint64_t low = 0;
    auto operator<=>(const Number&) const = default;
  };
  struct Range {
    Number first;
    Number last;  // inclusive, so the whole address space fits
  };
  static Number number_of(const IpAddress& address);
  static Range range_of(const Cidr& block);
  static void merge(std::vector<Range>& ranges);
  static bool in(const std::vector<Range>& ranges, const Number& first, const Number& last);

  std::vector<Cidr> blocks_;
  std::vector<Range> v4_;
  std::vector<Range> v6_;
};

// The key per-source limits are counted under: an IPv4 address (mapped ones
// unmapped), or an IPv6 address cut to `ipv6_prefix` bits, since one IPv6
// host commonly owns a whole /64.
IpAddress source_key(const IpAddress& address, uint8_t ipv6_prefix);

}  // namespace policy
