#include "policy/proxy_header.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/crc32c.h"

namespace policy {
namespace {

using Status = ProxyHeaderParse::Status;

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::array<uint8_t, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// v2 TLV types (section 2.2) and PP2_TYPE_SSL's subtypes.
constexpr uint8_t kTypeAlpn = 0x01;
constexpr uint8_t kTypeAuthority = 0x02;
constexpr uint8_t kTypeCrc32c = 0x03;
constexpr uint8_t kTypeUniqueId = 0x05;
constexpr uint8_t kTypeSsl = 0x20;
constexpr uint8_t kSubtypeSslVersion = 0x21;
constexpr uint8_t kSubtypeSslCommonName = 0x22;
// PP2_TYPE_SSL's fixed part: client (1 byte) and verify (4 bytes).
constexpr size_t kSslFixedBytes = 5;
constexpr size_t kTlvHeaderBytes = 3;

ProxyHeaderParse incomplete() { return {}; }

ProxyHeaderParse invalid(ProxyHeaderError error, std::string detail) {
  ProxyHeaderParse parse;
  parse.status = Status::invalid;
  parse.error = error;
  parse.detail = std::move(detail);
  return parse;
}

ProxyHeaderParse complete(size_t length, ProxyHeader header) {
  ProxyHeaderParse parse;
  parse.status = Status::complete;
  parse.length = length;
  parse.header = std::move(header);
  return parse;
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number of at most `max_digits` digits and at most `max`, without
// leading zeros (the spec forbids them, so nothing reads as octal).
std::optional<uint32_t> canonical_decimal(std::string_view text, size_t max_digits, uint32_t max) {
  if (text.empty() || text.size() > max_digits || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint32_t value = 0;
  for (char c : text) value = value * 10 + static_cast<uint32_t>(c - '0');
  if (value > max) return std::nullopt;
  return value;
}

// Exactly four decimal numbers 0-255 joined by single dots, no leading zeros.
std::optional<IpAddress> dotted_quad(std::string_view text) {
  uint8_t bytes[4];
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto part = canonical_decimal(text.substr(0, dot), 3, 255);
    if (!part) return std::nullopt;
    bytes[i] = static_cast<uint8_t>(*part);
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return IpAddress::v4(bytes);
}

std::optional<IpAddress> v1_address(std::string_view text, bool v6) {
  if (!v6) return dotted_quad(text);
  // Colon-separated hex groups with at most one "::" (and an embedded IPv4
  // tail, which inet_ntop writes for mapped addresses); inet_pton checks the
  // rest, and a text without a colon is never IPv6.
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  auto address = IpAddress::parse(text);
  if (!address || address->is_v4) return std::nullopt;
  return address;
}

// Splits at single spaces; an empty field (two spaces, a leading or trailing
// one) stays empty, and the caller refuses it.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    size_t space = line.find(' ');
    fields.push_back(line.substr(0, space));
    if (space == std::string_view::npos) return fields;
    line.remove_prefix(space + 1);
  }
}

ProxyHeaderParse finish_v1(std::string_view line, size_t length) {
  ProxyHeader header;
  header.version = 1;
  // "For UNKNOWN, the rest of the line before the CRLF may be omitted by the
  // sender, and the receiver must ignore anything presented before the CRLF."
  if (line == "PROXY UNKNOWN" || line.starts_with("PROXY UNKNOWN ")) return complete(length, header);
  auto fields = fields_of(line);
  if (fields.size() < 2 || (fields[1] != "TCP4" && fields[1] != "TCP6")) {
    return invalid(ProxyHeaderError::malformed, "v1: the protocol is not TCP4, TCP6 or UNKNOWN");
  }
  if (fields.size() != 6) {
    return invalid(ProxyHeaderError::malformed,
                   "v1: expected 'PROXY " + std::string(fields[1]) + " <src> <dst> <sport> <dport>' with single spaces");
  }
  bool v6 = fields[1] == "TCP6";
  auto source = v1_address(fields[2], v6);
  auto destination = v1_address(fields[3], v6);
  if (!source || !destination) {
    return invalid(ProxyHeaderError::malformed, std::string("v1: ") + (source ? "destination" : "source") +
                                                    " address is not a canonical " + (v6 ? "IPv6" : "IPv4") +
                                                    " address");
  }
  auto source_port = canonical_decimal(fields[4], 5, 65535);
  auto destination_port = canonical_decimal(fields[5], 5, 65535);
  if (!source_port || !destination_port) {
    return invalid(ProxyHeaderError::malformed, std::string("v1: ") + (source_port ? "destination" : "source") +
                                                    " port is not a decimal 0-65535 without leading zeros");
  }
  header.addresses = ProxyAddresses{*source, *destination, static_cast<uint16_t>(*source_port),
                                    static_cast<uint16_t>(*destination_port)};
  return complete(length, header);
}

ProxyHeaderParse parse_v1(std::span<const uint8_t> input) {
  size_t prefix = std::min(input.size(), kV1Prefix.size());
  if (as_text(input.first(prefix)) != kV1Prefix.substr(0, prefix)) {
    return invalid(ProxyHeaderError::malformed, "not a PROXY header (no v1 or v2 signature)");
  }
  for (size_t i = 0; i < input.size(); ++i) {
    uint8_t c = input[i];
    if (c == '\n') return invalid(ProxyHeaderError::malformed, "v1: LF without CR");
    if (c != '\r' && (c < 0x20 || c > 0x7E)) {
      return invalid(ProxyHeaderError::malformed, "v1: a byte that is not printable ASCII");
    }
    // The CRLF must end within kProxyV1MaxBytes: a CR at i takes i + 2 bytes,
    // and any other byte there leaves no room for one.
    if (i + 2 > kProxyV1MaxBytes || (c != '\r' && i + 2 == kProxyV1MaxBytes)) {
      return invalid(ProxyHeaderError::too_large, "v1: no CRLF within the first 107 bytes");
    }
    if (c == '\r') {
      if (i + 1 == input.size()) return incomplete();
      if (input[i + 1] != '\n') return invalid(ProxyHeaderError::malformed, "v1: CR not followed by LF");
      return finish_v1(as_text(input.first(i)), i + 2);
    }
  }
  return incomplete();
}

// Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF)
// without control characters: text that reaches handlers and logs.
bool printable_utf8(std::span<const uint8_t> bytes) {
  for (size_t i = 0; i < bytes.size();) {
    uint8_t lead = bytes[i];
    if (lead < 0x80) {
      if (lead < 0x20 || lead == 0x7F) return false;
      ++i;
      continue;
    }
    size_t extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    if (extra == 0 || lead > 0xF4 || extra > bytes.size() - i - 1) return false;
    uint32_t code = lead & (0x3F >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      uint8_t next = bytes[i + k];
      if ((next & 0xC0) != 0x80) return false;
      code = code << 6 | (next & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    if (code >= 0x80 && code < 0xA0) return false;  // C1 controls
    i += extra + 1;
  }
  return true;
}

bool visible_ascii(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t c) { return c > 0x20 && c < 0x7F; });
}

bool printable_ascii(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t c) { return c >= 0x20 && c < 0x7F; });
}

// Walks a run of TLVs; `visit(type, value)` returns an error text or empty.
// A TLV that runs past the end, or a remainder too short for one, is malformed.
template <typename Visit>
std::string for_each_tlv(std::span<const uint8_t> bytes, Visit&& visit) {
  while (!bytes.empty()) {
    if (bytes.size() < kTlvHeaderBytes) return "a TLV header is cut short";
    uint8_t type = bytes[0];
    size_t length = be16(bytes.data() + 1);
    if (length > bytes.size() - kTlvHeaderBytes) return "a TLV runs past the header's length";
    std::string error = visit(type, bytes.subspan(kTlvHeaderBytes, length), bytes.data() + kTlvHeaderBytes);
    if (!error.empty()) return error;
    bytes = bytes.subspan(kTlvHeaderBytes + length);
  }
  return {};
}

std::string hex_byte(uint8_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 0xF];
}

// Reads one text TLV value into `out`, checking its bound and alphabet; a
// second one of the same type is ambiguous, so refused.
std::string take_text(std::string& out, bool& seen, std::span<const uint8_t> value, size_t max, bool valid,
                      const char* name) {
  if (seen) return std::string("v2: more than one ") + name + " TLV";
  seen = true;
  if (value.size() > max) return std::string("v2: ") + name + " longer than " + std::to_string(max) + " bytes";
  if (!valid) return std::string("v2: ") + name + " holds bytes that are not allowed there";
  out.assign(as_text(value));
  return {};
}

std::string parse_ssl(std::span<const uint8_t> value, ProxySsl& ssl) {
  if (value.size() < kSslFixedBytes) return "v2: PP2_TYPE_SSL shorter than its 5 fixed bytes";
  ssl.client = value[0];
  ssl.verify = be32(value.data() + 1);
  bool version_seen = false;
  bool name_seen = false;
  std::string error = for_each_tlv(value.subspan(kSslFixedBytes), [&](uint8_t type, std::span<const uint8_t> sub,
                                                                      const uint8_t*) -> std::string {
    if (type == kSubtypeSslVersion) {
      return take_text(ssl.version, version_seen, sub, kProxyMaxSslTextBytes, printable_ascii(sub), "SSL version");
    }
    if (type == kSubtypeSslCommonName) {
      return take_text(ssl.common_name, name_seen, sub, kProxyMaxSslTextBytes, printable_utf8(sub), "SSL CN");
    }
    return {};  // cipher, algorithms, the client certificate: not passed on
  });
  return error.empty() ? error : (error.starts_with("v2: ") ? error : "v2: PP2_TYPE_SSL: " + error);
}

ProxyHeaderParse parse_v2(std::span<const uint8_t> input) {
  size_t prefix = std::min(input.size(), kV2Signature.size());
  if (std::memcmp(input.data(), kV2Signature.data(), prefix) != 0) {
    return invalid(ProxyHeaderError::malformed, "not a PROXY header (no v1 or v2 signature)");
  }
  if (input.size() <= kV2Signature.size()) return incomplete();
  uint8_t version_command = input[12];
  if (version_command >> 4 != 2) {
    return invalid(ProxyHeaderError::malformed, "v2: version " + std::to_string(version_command >> 4) + " (only 2 exists)");
  }
  uint8_t command = version_command & 0x0F;
  if (command > 1) return invalid(ProxyHeaderError::malformed, "v2: unassigned command " + std::to_string(command));
  if (input.size() < 14) return incomplete();
  // The family and protocol byte; for LOCAL it is ignored, as the spec says.
  uint8_t family = input[13];
  size_t address_bytes = 0;
  bool addresses_used = false;
  switch (family) {
    case 0x00: address_bytes = 0; break;                          // UNSPEC
    case 0x11: address_bytes = 12; addresses_used = true; break;  // TCP over IPv4
    case 0x21: address_bytes = 36; addresses_used = true; break;  // TCP over IPv6
    case 0x12: address_bytes = 12; break;                         // UDP over IPv4: not this port's protocol
    case 0x22: address_bytes = 36; break;                         // UDP over IPv6
    case 0x31:
    case 0x32: address_bytes = 216; break;  // UNIX stream and datagram: no address to screen
    default:
      if (command == 1) return invalid(ProxyHeaderError::malformed, "v2: unknown family and protocol " + hex_byte(family));
  }
  if (input.size() < kProxyV2FixedBytes) return incomplete();
  size_t length = be16(input.data() + 14);
  if (length > kProxyV2MaxLength) {
    return invalid(ProxyHeaderError::too_large,
                   "v2: length " + std::to_string(length) + " is over " + std::to_string(kProxyV2MaxLength));
  }
  size_t total = kProxyV2FixedBytes + length;
  if (input.size() < total) return incomplete();

  ProxyHeader header;
  header.version = 2;
  // LOCAL: "the receiver must accept this connection as valid and must use
  // the real connection endpoints and discard the protocol block".
  if (command == 0) {
    header.command = ProxyCommand::local;
    return complete(total, header);
  }
  if (length < address_bytes) {
    return invalid(ProxyHeaderError::malformed, "v2: length " + std::to_string(length) + " is shorter than the " +
                                                    std::to_string(address_bytes) + " address bytes of family " +
                                                    hex_byte(family));
  }
  const uint8_t* block = input.data() + kProxyV2FixedBytes;
  if (addresses_used) {
    size_t width = family == 0x11 ? 4 : 16;
    ProxyAddresses addresses;
    addresses.source = width == 4 ? IpAddress::v4(block) : IpAddress::v6(block);
    addresses.destination = width == 4 ? IpAddress::v4(block + 4) : IpAddress::v6(block + 16);
    addresses.source_port = be16(block + 2 * width);
    addresses.destination_port = be16(block + 2 * width + 2);
    header.addresses = addresses;
  }
  // UNSPEC has no defined address block: its bytes are ignored, TLVs included.
  if (family == 0x00) return complete(total, header);

  bool seen[4] = {};  // authority, alpn, unique id, ssl
  std::optional<size_t> checksum_at;
  std::string error = for_each_tlv(
      std::span<const uint8_t>(block + address_bytes, length - address_bytes),
      [&](uint8_t type, std::span<const uint8_t> value, const uint8_t* value_at) -> std::string {
        switch (type) {
          case kTypeAuthority:
            return take_text(header.authority, seen[0], value, kProxyMaxAuthorityBytes, printable_utf8(value),
                             "authority");
          case kTypeAlpn:
            return take_text(header.alpn, seen[1], value, kProxyMaxAlpnBytes, visible_ascii(value), "ALPN");
          case kTypeUniqueId:
            if (seen[2]) return "v2: more than one unique ID TLV";
            seen[2] = true;
            if (value.size() > kProxyMaxUniqueIdBytes) return "v2: unique ID longer than 128 bytes";
            header.unique_id.assign(value.begin(), value.end());
            return {};
          case kTypeSsl:
            if (seen[3]) return "v2: more than one PP2_TYPE_SSL TLV";
            seen[3] = true;
            header.ssl.emplace();
            return parse_ssl(value, *header.ssl);
          case kTypeCrc32c:
            if (checksum_at) return "v2: more than one CRC32C TLV";
            if (value.size() != 4) return "v2: CRC32C TLV of " + std::to_string(value.size()) + " bytes (not 4)";
            checksum_at = static_cast<size_t>(value_at - input.data());
            return {};
          default:
            return {};  // NOOP, NETNS, custom and unknown types are skipped
        }
      });
  if (!error.empty()) return invalid(ProxyHeaderError::malformed, error.starts_with("v2: ") ? error : "v2: " + error);
  if (checksum_at) {
    // Computed over the whole header with the checksum's own bytes as zeros.
    std::vector<uint8_t> copy(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(total));
    uint32_t sent = be32(copy.data() + *checksum_at);
    std::fill_n(copy.begin() + static_cast<std::ptrdiff_t>(*checksum_at), 4, uint8_t{0});
    if (common::crc32c(copy) != sent) return invalid(ProxyHeaderError::checksum, "v2: the CRC32C TLV does not match");
  }
  return complete(total, header);
}

}  // namespace

std::string_view proxy_header_error_name(ProxyHeaderError error) {
  switch (error) {
    case ProxyHeaderError::none: return "none";
    case ProxyHeaderError::malformed: return "malformed";
    case ProxyHeaderError::too_large: return "too-large";
    case ProxyHeaderError::checksum: return "checksum";
  }
  return "none";
}

ProxyHeaderParse parse_proxy_header(std::span<const uint8_t> input) {
  if (input.empty()) return incomplete();
  // The first byte tells the versions apart: 'P' of "PROXY", or CR.
  if (input[0] == kV2Signature[0]) return parse_v2(input);
  return parse_v1(input);
}

}  // namespace policy
