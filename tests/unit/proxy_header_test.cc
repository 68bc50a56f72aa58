#include "policy/proxy_header.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/crc32c.h"

using policy::parse_proxy_header;
using policy::ProxyCommand;
using policy::ProxyHeaderError;
using policy::ProxyHeaderParse;
using Status = ProxyHeaderParse::Status;

namespace {

std::vector<uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

ProxyHeaderParse parse(const std::vector<uint8_t>& input) { return parse_proxy_header(input); }
ProxyHeaderParse parse(std::string_view text) { return parse(bytes(text)); }

const std::vector<uint8_t> kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

void put16(std::vector<uint8_t>& out, size_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

std::vector<uint8_t> tlv(uint8_t type, const std::vector<uint8_t>& value) {
  std::vector<uint8_t> out = {type};
  put16(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

std::vector<uint8_t> tlv(uint8_t type, std::string_view value) { return tlv(type, bytes(value)); }

// A v2 header: version/command byte, family byte, then the block (addresses
// and TLVs) with its length filled in.
std::vector<uint8_t> v2(uint8_t version_command, uint8_t family, const std::vector<uint8_t>& block) {
  std::vector<uint8_t> out = kSignature;
  out.push_back(version_command);
  out.push_back(family);
  put16(out, block.size());
  out.insert(out.end(), block.begin(), block.end());
  return out;
}

// TCP over IPv4: 192.0.2.7:51000 -> 198.51.100.1:443.
std::vector<uint8_t> tcp4_addresses() { return {192, 0, 2, 7, 198, 51, 100, 1, 0xC7, 0x38, 0x01, 0xBB}; }

std::vector<uint8_t> tcp6_addresses() {
  std::vector<uint8_t> out = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05};
  std::vector<uint8_t> destination = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  out.insert(out.end(), destination.begin(), destination.end());
  put16(out, 40000);
  put16(out, 8443);
  return out;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// Fills a zeroed CRC32C TLV's value (at `offset` from the start) as a sender does.
void seal(std::vector<uint8_t>& header, size_t offset) {
  uint32_t crc = common::crc32c(header);
  for (int i = 0; i < 4; ++i) header[offset + static_cast<size_t>(i)] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

// The addresses both versions' main examples declare.
void check_example_addresses(const ProxyHeaderParse& p, size_t length, int version) {
  REQUIRE(p.status == Status::complete);
  CHECK(p.length == length);
  CHECK(p.header.version == version);
  CHECK(p.header.command == ProxyCommand::proxy);
  REQUIRE(p.header.addresses.has_value());
  CHECK(p.header.addresses->source.to_string() == "192.0.2.7");
  CHECK(p.header.addresses->destination.to_string() == "198.51.100.1");
  CHECK(p.header.addresses->source_port == 51000);
  CHECK(p.header.addresses->destination_port == 443);
}

void check_invalid(const ProxyHeaderParse& p, ProxyHeaderError error, const std::string& mentions = "") {
  CAPTURE(p.detail);
  REQUIRE(p.status == Status::invalid);
  CHECK(p.error == error);
  CHECK(p.detail.find(mentions) != std::string::npos);
  for (char c : p.detail) CHECK((c >= 0x20 && c < 0x7F));
}

}  // namespace

TEST_CASE("crc32c matches the standard check value and RFC 3720's vectors") {
  auto text = bytes("123456789");
  CHECK(common::crc32c(text) == 0xE3069283u);
  CHECK(common::crc32c(std::vector<uint8_t>(32, 0x00)) == 0x8A9136AAu);
  CHECK(common::crc32c(std::vector<uint8_t>(32, 0xFF)) == 0x62A8AB43u);
  CHECK(common::crc32c({}) == 0u);
}

TEST_CASE("v1: TCP4 and TCP6 lines give the client's addresses and the exact length") {
  auto p = parse("PROXY TCP4 192.0.2.7 198.51.100.1 51000 443\r\nGET / HTTP/1.0\r\n");
  check_example_addresses(p, 45, 1);

  p = parse("PROXY TCP6 2001:db8::5 2001:DB8::1 0 65535\r\n");
  REQUIRE(p.status == Status::complete);
  CHECK(p.header.addresses->source.to_string() == "2001:db8::5");
  CHECK_FALSE(p.header.addresses->source.is_v4);
  CHECK(p.header.addresses->source_port == 0);
  CHECK(p.header.addresses->destination_port == 65535);

  // inet_ntop's form of a mapped address: kept as IPv6 here, unmapped by the gate.
  p = parse("PROXY TCP6 ::ffff:192.0.2.7 ::1 1 2\r\n");
  REQUIRE(p.status == Status::complete);
  CHECK(p.header.addresses->source.is_v4_mapped());
}

TEST_CASE("v1: the longest lines the spec allows are read") {
  std::string six = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  auto p = parse("PROXY TCP6 " + six + " " + six + " 65535 65535\r\n");
  REQUIRE(p.status == Status::complete);
  CHECK(p.length == 104);
  std::string worst = "PROXY UNKNOWN " + six + " " + six + " 65535 65535\r\n";
  REQUIRE(worst.size() == policy::kProxyV1MaxBytes);
  p = parse(worst);
  REQUIRE(p.status == Status::complete);
  CHECK(p.length == 107);
  CHECK_FALSE(p.header.addresses.has_value());
}

TEST_CASE("v1: UNKNOWN uses the connection's own addresses, whatever follows it") {
  for (const char* line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY UNKNOWN whatever\r\n"}) {
    CAPTURE(line);
    auto p = parse(line);
    REQUIRE(p.status == Status::complete);
    CHECK(p.length == std::string(line).size());
    CHECK_FALSE(p.header.addresses.has_value());
    CHECK(p.header.command == ProxyCommand::proxy);
  }
  check_invalid(parse("PROXY UNKNOWNX\r\n"), ProxyHeaderError::malformed);
}

TEST_CASE("v1: every prefix of a valid line is incomplete, and takes no payload") {
  std::string line = "PROXY TCP4 192.0.2.7 198.51.100.1 51000 443\r\n";
  for (size_t n = 0; n < line.size(); ++n) {
    CAPTURE(n);
    CHECK(parse(line.substr(0, n)).status == Status::incomplete);
  }
  auto p = parse(line + "\r\nPROXY TCP4 1.1.1.1 1.1.1.1 1 1\r\n");
  REQUIRE(p.status == Status::complete);
  CHECK(p.length == line.size());
}

TEST_CASE("v1: strict grammar") {
  struct Case {
    const char* label;
    std::string text;
    ProxyHeaderError error;
  };
  const std::vector<Case> cases = {
      {"lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"two spaces", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"tab", "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"no protocol", "PROXY \r\n", ProxyHeaderError::malformed},
      {"missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", ProxyHeaderError::malformed},
      {"extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", ProxyHeaderError::malformed},
      {"trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", ProxyHeaderError::malformed},
      {"double space between fields", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"leading zero in the address", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"octet over 255", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"three octets", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"five octets", "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"empty octet", "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"sign in octet", "PROXY TCP4 +1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"IPv6 under TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n", ProxyHeaderError::malformed},
      {"IPv4 under TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"mixed families", "PROXY TCP6 ::1 5.6.7.8 1 2\r\n", ProxyHeaderError::malformed},
      {"two double colons", "PROXY TCP6 1::2::3 ::1 1 2\r\n", ProxyHeaderError::malformed},
      {"zone id", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", ProxyHeaderError::malformed},
      {"leading zero in the port", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", ProxyHeaderError::malformed},
      {"port over 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", ProxyHeaderError::malformed},
      {"six-digit port", "PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n", ProxyHeaderError::malformed},
      {"negative port", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", ProxyHeaderError::malformed},
      {"hex port", "PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n", ProxyHeaderError::malformed},
      {"LF alone", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", ProxyHeaderError::malformed},
      {"CR alone", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", ProxyHeaderError::malformed},
      {"NUL", std::string("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33), ProxyHeaderError::malformed},
      {"high byte", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xC3\xA9\r\n", ProxyHeaderError::malformed},
      {"not a header at all", "GET / HTTP/1.1\r\n", ProxyHeaderError::malformed},
      {"TLS client hello", "\x16\x03\x01\x02\x00\x01", ProxyHeaderError::malformed},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    check_invalid(parse(c.text), c.error);
  }
}

TEST_CASE("v1: a wrong start is refused at once, not after the deadline") {
  check_invalid(parse("G"), ProxyHeaderError::malformed, "signature");
  check_invalid(parse("PROXX"), ProxyHeaderError::malformed);
  check_invalid(parse("PROXY\r"), ProxyHeaderError::malformed);
  CHECK(parse("PROX").status == Status::incomplete);
}

TEST_CASE("v1: no CRLF within 107 bytes is too large") {
  std::string long_line = "PROXY UNKNOWN " + std::string(92, 'a');  // 106 bytes, no CRLF
  CHECK(long_line.size() == 106);
  check_invalid(parse(long_line), ProxyHeaderError::too_large, "107");
  CHECK(parse(long_line.substr(0, 105)).status == Status::incomplete);
  // A CR as the 106th byte still leaves room for the LF.
  CHECK(parse(long_line.substr(0, 105) + "\r").status == Status::incomplete);
  CHECK(parse(long_line.substr(0, 105) + "\r\n").status == Status::complete);
  check_invalid(parse(long_line + "\r\n"), ProxyHeaderError::too_large);
  check_invalid(parse(std::string("PROXY ") + std::string(300, 'x')), ProxyHeaderError::too_large);
}

TEST_CASE("v2: TCP over IPv4 and IPv6 give the client's addresses") {
  auto header = v2(0x21, 0x11, tcp4_addresses());
  header.push_back('x');  // payload
  auto p = parse(header);
  check_example_addresses(p, 28, 2);
  CHECK(p.header.authority.empty());
  CHECK(p.header.unique_id.empty());
  CHECK_FALSE(p.header.ssl.has_value());

  p = parse(v2(0x21, 0x21, tcp6_addresses()));
  REQUIRE(p.status == Status::complete);
  CHECK(p.length == 52);
  CHECK(p.header.addresses->source.to_string() == "2001:db8::5");
  CHECK(p.header.addresses->destination.to_string() == "2001:db8::1");
  CHECK(p.header.addresses->source_port == 40000);
  CHECK(p.header.addresses->destination_port == 8443);
}

TEST_CASE("v2: every prefix of a valid header is incomplete") {
  auto header = v2(0x21, 0x11, concat({tcp4_addresses(), tlv(0x02, "example.com")}));
  for (size_t n = 0; n < header.size(); ++n) {
    CAPTURE(n);
    CHECK(parse(std::vector<uint8_t>(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n))).status ==
          Status::incomplete);
  }
  CHECK(parse(header).status == Status::complete);
}

TEST_CASE("v2: LOCAL is a health check, whatever its family and block") {
  for (uint8_t family : {0x00, 0x11, 0x21, 0x31, 0x77}) {
    CAPTURE(int(family));
    auto p = parse(v2(0x20, family, family == 0x11 ? tcp4_addresses() : std::vector<uint8_t>{}));
    REQUIRE(p.status == Status::complete);
    CHECK(p.header.command == ProxyCommand::local);
    CHECK_FALSE(p.header.addresses.has_value());
  }
  // "Receivers must not assume zero is presented for LOCAL connections."
  auto p = parse(v2(0x20, 0x00, std::vector<uint8_t>(20, 0xAA)));
  REQUIRE(p.status == Status::complete);
  CHECK(p.length == 36);
}

TEST_CASE("v2: UNSPEC, UNIX and datagram families use the connection's own addresses") {
  auto p = parse(v2(0x21, 0x00, {}));
  REQUIRE(p.status == Status::complete);
  CHECK_FALSE(p.header.addresses.has_value());
  // UNSPEC's block is ignored, even bytes that would not parse as TLVs.
  p = parse(v2(0x21, 0x00, {0x01, 0x02}));
  REQUIRE(p.status == Status::complete);

  std::vector<uint8_t> unix_block(216, 0);
  p = parse(v2(0x21, 0x31, concat({unix_block, tlv(0x02, "example.com")})));
  REQUIRE(p.status == Status::complete);
  CHECK_FALSE(p.header.addresses.has_value());
  CHECK(p.header.authority == "example.com");
  for (uint8_t family : {0x12, 0x22, 0x32}) {
    p = parse(v2(0x21, family, family == 0x12 ? tcp4_addresses() : family == 0x22 ? tcp6_addresses() : unix_block));
    REQUIRE(p.status == Status::complete);
    CHECK_FALSE(p.header.addresses.has_value());
  }
}

TEST_CASE("v2: TLVs: authority, ALPN, unique ID and SSL are read; NOOP and unknown types skipped") {
  std::vector<uint8_t> ssl_value = {0x07, 0, 0, 0, 0};
  auto subs = concat({tlv(0x21, "TLSv1.3"), tlv(0x22, "client.example"), tlv(0x23, "TLS_AES_128_GCM_SHA256")});
  ssl_value.insert(ssl_value.end(), subs.begin(), subs.end());
  std::vector<uint8_t> id = {0x00, 0xFF, 0x10, 0x80};
  auto block = concat({tcp4_addresses(), tlv(0x04, ""), tlv(0x02, "api.example.com"), tlv(0x01, "h2"),
                       tlv(0x05, id), tlv(0x20, ssl_value), tlv(0x30, "netns"), tlv(0xEA, std::vector<uint8_t>(40, 0)),
                       tlv(0x04, "pad")});
  auto p = parse(v2(0x21, 0x11, block));
  REQUIRE(p.status == Status::complete);
  CHECK(p.header.authority == "api.example.com");
  CHECK(p.header.alpn == "h2");
  CHECK(p.header.unique_id == id);
  REQUIRE(p.header.ssl.has_value());
  CHECK(p.header.ssl->version == "TLSv1.3");
  CHECK(p.header.ssl->common_name == "client.example");
  CHECK(p.header.ssl->client_certificate());
  CHECK(p.header.ssl->verified());

  // A certificate that did not verify, and a client without one.
  p = parse(v2(0x21, 0x11, concat({tcp4_addresses(), tlv(0x20, std::vector<uint8_t>{0x03, 0, 0, 0, 1})})));
  REQUIRE(p.status == Status::complete);
  CHECK(p.header.ssl->client_certificate());
  CHECK_FALSE(p.header.ssl->verified());
  p = parse(v2(0x21, 0x11, concat({tcp4_addresses(), tlv(0x20, std::vector<uint8_t>{0x01, 0, 0, 0, 0})})));
  REQUIRE(p.status == Status::complete);
  CHECK_FALSE(p.header.ssl->client_certificate());
  CHECK_FALSE(p.header.ssl->verified());

  // UTF-8 in the authority.
  p = parse(v2(0x21, 0x11, concat({tcp4_addresses(), tlv(0x02, "b\xC3\xBC" "cher.example")})));
  REQUIRE(p.status == Status::complete);
  CHECK(p.header.authority == "b\xC3\xBC" "cher.example");
}

TEST_CASE("v2: a CRC32C TLV is verified over the whole header") {
  auto block = concat({tcp4_addresses(), tlv(0x02, "example.com"), tlv(0x03, std::vector<uint8_t>(4, 0))});
  auto header = v2(0x21, 0x11, block);
  size_t crc_at = header.size() - 4;
  seal(header, crc_at);
  auto p = parse(header);
  REQUIRE(p.status == Status::complete);
  CHECK(p.header.authority == "example.com");

  auto tampered = header;
  tampered[16] ^= 1;  // the source address
  check_invalid(parse(tampered), ProxyHeaderError::checksum, "CRC32C");
  tampered = header;
  tampered[crc_at] ^= 0x80;
  check_invalid(parse(tampered), ProxyHeaderError::checksum);

  check_invalid(parse(v2(0x21, 0x11, concat({tcp4_addresses(), tlv(0x03, std::vector<uint8_t>(3, 0))}))),
                ProxyHeaderError::malformed, "CRC32C");
  auto twice = v2(0x21, 0x11, concat({tcp4_addresses(), tlv(0x03, std::vector<uint8_t>(4, 0)),
                                      tlv(0x03, std::vector<uint8_t>(4, 0))}));
  check_invalid(parse(twice), ProxyHeaderError::malformed, "more than one");
}

TEST_CASE("v2: strict structure") {
  struct Case {
    const char* label;
    std::vector<uint8_t> input;
    ProxyHeaderError error;
  };
  auto addresses = tcp4_addresses();
  std::vector<uint8_t> ssl_short = {0x01, 0, 0};
  const std::vector<Case> cases = {
      {"version 1 nibble", v2(0x11, 0x11, addresses), ProxyHeaderError::malformed},
      {"version 3 nibble", v2(0x31, 0x11, addresses), ProxyHeaderError::malformed},
      {"unassigned command", v2(0x22, 0x11, addresses), ProxyHeaderError::malformed},
      {"unknown family", v2(0x21, 0x41, addresses), ProxyHeaderError::malformed},
      {"INET with UNSPEC protocol", v2(0x21, 0x10, addresses), ProxyHeaderError::malformed},
      {"unknown protocol", v2(0x21, 0x13, addresses), ProxyHeaderError::malformed},
      {"length shorter than IPv4 addresses", v2(0x21, 0x11, {1, 2, 3, 4, 5, 6, 7, 8}), ProxyHeaderError::malformed},
      {"length shorter than IPv6 addresses", v2(0x21, 0x21, addresses), ProxyHeaderError::malformed},
      {"length shorter than UNIX addresses", v2(0x21, 0x31, std::vector<uint8_t>(215, 0)), ProxyHeaderError::malformed},
      {"TLV cut short", v2(0x21, 0x11, concat({addresses, {0x02, 0x00}})), ProxyHeaderError::malformed},
      {"TLV past the end", v2(0x21, 0x11, concat({addresses, {0x02, 0x00, 0x05, 'a'}})), ProxyHeaderError::malformed},
      {"two authorities", v2(0x21, 0x11, concat({addresses, tlv(0x02, "a"), tlv(0x02, "b")})),
       ProxyHeaderError::malformed},
      {"authority with a control byte", v2(0x21, 0x11, concat({addresses, tlv(0x02, "a\nb")})),
       ProxyHeaderError::malformed},
      {"authority not UTF-8", v2(0x21, 0x11, concat({addresses, tlv(0x02, "a\xC3")})), ProxyHeaderError::malformed},
      {"authority overlong UTF-8", v2(0x21, 0x11, concat({addresses, tlv(0x02, "\xC0\xAF")})),
       ProxyHeaderError::malformed},
      {"authority surrogate", v2(0x21, 0x11, concat({addresses, tlv(0x02, "\xED\xA0\x80")})),
       ProxyHeaderError::malformed},
      {"authority too long", v2(0x21, 0x11, concat({addresses, tlv(0x02, std::string(256, 'a'))})),
       ProxyHeaderError::malformed},
      {"ALPN with a space", v2(0x21, 0x11, concat({addresses, tlv(0x01, "h 2")})), ProxyHeaderError::malformed},
      {"unique ID over 128 bytes", v2(0x21, 0x11, concat({addresses, tlv(0x05, std::vector<uint8_t>(129, 1))})),
       ProxyHeaderError::malformed},
      {"SSL shorter than its fixed part", v2(0x21, 0x11, concat({addresses, tlv(0x20, ssl_short)})),
       ProxyHeaderError::malformed},
      {"SSL sub-TLV past its end",
       v2(0x21, 0x11, concat({addresses, tlv(0x20, std::vector<uint8_t>{0x01, 0, 0, 0, 0, 0x21, 0x00, 0x09, 'T'})})),
       ProxyHeaderError::malformed},
      {"SSL version with a control byte",
       v2(0x21, 0x11, concat({addresses, tlv(0x20, concat({{0x01, 0, 0, 0, 0}, tlv(0x21, "TLS\x01")}))})),
       ProxyHeaderError::malformed},
      {"length over the bound", v2(0x21, 0x11, concat({addresses, tlv(0x04, std::vector<uint8_t>(4096, 0))})),
       ProxyHeaderError::too_large},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    check_invalid(parse(c.input), c.error);
  }
}

TEST_CASE("v2: a bad signature, version or length is refused from the bytes that show it") {
  auto header = v2(0x21, 0x11, tcp4_addresses());
  auto bad = header;
  bad[4] = 0x01;  // the NUL of the signature
  check_invalid(parse(std::vector<uint8_t>(bad.begin(), bad.begin() + 5)), ProxyHeaderError::malformed, "signature");
  check_invalid(parse(std::vector<uint8_t>{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x13}),
                ProxyHeaderError::malformed, "version");
  check_invalid(parse(std::vector<uint8_t>{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21,
                                           0x99}),
                ProxyHeaderError::malformed, "family");
  // The length is known from 16 bytes on: too large before the rest arrives.
  auto large = kSignature;
  large.insert(large.end(), {0x21, 0x11, 0x10, 0x01});  // 4097
  check_invalid(parse(large), ProxyHeaderError::too_large, "4097");
  auto largest = kSignature;
  largest.insert(largest.end(), {0x21, 0x11, 0x10, 0x00});  // 4096: waits for it
  CHECK(parse(largest).status == Status::incomplete);
}

TEST_CASE("error names as counted in status") {
  CHECK(policy::proxy_header_error_name(ProxyHeaderError::malformed) == "malformed");
  CHECK(policy::proxy_header_error_name(ProxyHeaderError::too_large) == "too-large");
  CHECK(policy::proxy_header_error_name(ProxyHeaderError::checksum) == "checksum");
}
