#include "policy/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace policy {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Keeps the first `prefix` bits of `bytes`, zeroing the rest.
std::array<uint8_t, 16> masked(const std::array<uint8_t, 16>& bytes, size_t prefix, size_t total_bits) {
  std::array<uint8_t, 16> out{};
  for (size_t bit = 0; bit < prefix && bit < total_bits; bit += 8) {
    size_t byte = bit / 8;
    size_t keep = std::min<size_t>(8, prefix - bit);
    out[byte] = static_cast<uint8_t>(bytes[byte] & (0xFF << (8 - keep)));
  }
  return out;
}

// The text as written, with control characters escaped, for error messages.
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton would stop at a NUL and accept whatever came before it.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::string copy(text);
  IpAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    address.is_v4 = true;
    return address;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.is_v4 = false;
    return address;
  }
  return std::nullopt;
}

IpAddress IpAddress::v4(const uint8_t* four) {
  IpAddress address;
  std::memcpy(address.bytes.data(), four, 4);
  return address;
}

IpAddress IpAddress::v6(const uint8_t* sixteen) {
  IpAddress address;
  address.is_v4 = false;
  std::memcpy(address.bytes.data(), sixteen, 16);
  return address;
}

bool IpAddress::is_v4_mapped() const { return !is_v4 && std::memcmp(bytes.data(), kMappedPrefix, 12) == 0; }

IpAddress IpAddress::unmapped() const { return is_v4_mapped() ? v4(bytes.data() + 12) : *this; }

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(is_v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

bool Cidr::contains(const IpAddress& address) const {
  if (network.is_v4) {
    IpAddress candidate = address.unmapped();
    return candidate.is_v4 && masked(candidate.bytes, prefix, 32) == network.bytes;
  }
  return !address.is_v4 && masked(address.bytes, prefix, 128) == network.bytes;
}

bool Cidr::covers(const Cidr& other) const {
  return network.is_v4 == other.network.is_v4 && prefix <= other.prefix && contains(other.network);
}

std::string Cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix); }

std::optional<Cidr> parse_cidr(std::string_view text, std::string& error) {
  size_t slash = text.find('/');
  std::string_view address_text = text.substr(0, slash);
  auto address = IpAddress::parse(address_text);
  if (!address) {
    error = quoted(text) + " is not an IPv4 or IPv6 address or CIDR block";
    return std::nullopt;
  }
  Cidr cidr{*address, static_cast<uint8_t>(address->bits())};
  if (slash != std::string_view::npos) {
    std::string_view prefix_text = text.substr(slash + 1);
    bool digits = !prefix_text.empty() && prefix_text.size() <= 3 &&
                  prefix_text.find_first_not_of("0123456789") == std::string_view::npos &&
                  !(prefix_text.size() > 1 && prefix_text[0] == '0');
    unsigned prefix = digits ? static_cast<unsigned>(std::stoul(std::string(prefix_text))) : 999;
    if (prefix > address->bits()) {
      error = quoted(text) + " has an invalid prefix length (0-" + std::to_string(address->bits()) + ")";
      return std::nullopt;
    }
    cidr.prefix = static_cast<uint8_t>(prefix);
  }
  auto network = masked(address->bytes, cidr.prefix, address->bits());
  if (network != address->bytes) {
    IpAddress suggestion = *address;
    suggestion.bytes = network;
    error = quoted(text) + " has host bits set (did you mean " + suggestion.to_string() + "/" +
            std::to_string(cidr.prefix) + "?)";
    return std::nullopt;
  }
  return cidr;
}

CidrSet::CidrSet(std::vector<Cidr> blocks) : blocks_(std::move(blocks)) {
  for (const auto& block : blocks_) {
    // A block with host bits set (never from parse_cidr) contains nothing,
    // as Cidr::contains has it.
    size_t prefix = std::min<size_t>(block.prefix, block.network.bits());
    if (masked(block.network.bytes, prefix, block.network.bits()) != block.network.bytes) continue;
    (block.network.is_v4 ? v4_ : v6_).push_back(range_of(block));
  }
  merge(v4_);
  merge(v6_);
}

CidrSet::Number CidrSet::number_of(const IpAddress& address) {
  Number number;
  if (address.is_v4) {
    for (size_t i = 0; i < 4; ++i) number.low = (number.low << 8) | address.bytes[i];
    return number;
  }
  for (size_t i = 0; i < 8; ++i) number.high = (number.high << 8) | address.bytes[i];
  for (size_t i = 8; i < 16; ++i) number.low = (number.low << 8) | address.bytes[i];
  return number;
}

CidrSet::Range CidrSet::range_of(const Cidr& block) {
  size_t bits = block.network.bits();
  size_t host_bits = bits - std::min<size_t>(block.prefix, bits);
  Range range{number_of(block.network), number_of(block.network)};
  auto low_mask = [](size_t count) { return count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1; };
  // Host bits are cleared here too, so a block given with them set still
  // yields its whole network.
  range.first.low &= ~low_mask(host_bits);
  range.last.low |= low_mask(host_bits);
  if (host_bits > 64) {
    range.first.high &= ~low_mask(host_bits - 64);
    range.last.high |= low_mask(host_bits - 64);
  }
  return range;
}

void CidrSet::merge(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
  std::vector<Range> merged;
  for (const auto& range : ranges) {
    if (!merged.empty()) {
      Number& last = merged.back().last;
      // Overlapping or adjoining: one range. last + 1 cannot overflow unless
      // `last` is the top of the space, which then already covers `range`.
      Number next{last.low == ~uint64_t{0} ? last.high + 1 : last.high, last.low + 1};
      bool top = last.high == ~uint64_t{0} && last.low == ~uint64_t{0};
      if (top || range.first <= last || range.first == next) {
        last = std::max(last, range.last);
        continue;
      }
    }
    merged.push_back(range);
  }
  ranges = std::move(merged);
}

bool CidrSet::in(const std::vector<Range>& ranges, const Number& first, const Number& last) {
  // The only range that can hold `first` is the last one starting at or before it.
  auto after = std::upper_bound(ranges.begin(), ranges.end(), first,
                                [](const Number& value, const Range& range) { return value < range.first; });
  return after != ranges.begin() && std::prev(after)->last >= last;
}

bool CidrSet::contains(const IpAddress& address) const {
  Number number = number_of(address);
  if (address.is_v4) return in(v4_, number, number);
  if (in(v6_, number, number)) return true;
  if (!address.is_v4_mapped()) return false;
  Number unmapped = number_of(address.unmapped());
  return in(v4_, unmapped, unmapped);
}

bool CidrSet::covers(const Cidr& block) const {
  Range range = range_of(block);
  return in(block.network.is_v4 ? v4_ : v6_, range.first, range.last);
}

IpAddress source_key(const IpAddress& address, uint8_t ipv6_prefix) {
  IpAddress key = address.unmapped();
  if (!key.is_v4) key.bytes = masked(key.bytes, ipv6_prefix, 128);
  return key;
}

}  // namespace policy
