#include "policy/ip_address.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

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

bool CidrSet::contains(const IpAddress& address) const {
  for (const auto& block : blocks_) {
    if (block.contains(address)) return true;
  }
  return false;
}

bool CidrSet::covers(const Cidr& other) const {
  for (const auto& block : blocks_) {
    if (block.covers(other)) return true;
  }
  // Covered by the union of several blocks: then both halves are covered.
  // Only halves that partly overlap a block recurse, so this stays linear in
  // the number of blocks per prefix length.
  if (other.prefix >= other.network.bits()) return false;
  bool overlaps = false;
  for (const auto& block : blocks_) overlaps = overlaps || other.covers(block);
  if (!overlaps) return false;
  Cidr low{other.network, static_cast<uint8_t>(other.prefix + 1)};
  Cidr high = low;
  high.network.bytes[other.prefix / 8] |= static_cast<uint8_t>(0x80 >> (other.prefix % 8));
  return covers(low) && covers(high);
}

IpAddress source_key(const IpAddress& address, uint8_t ipv6_prefix) {
  IpAddress key = address.unmapped();
  if (!key.is_v4) key.bytes = masked(key.bytes, ipv6_prefix, 128);
  return key;
}

}  // namespace policy
