#include "policy/ip_address.h"
#include "tests/unit/address_literals.h"
#include "tests/unit/naive_cidr_set.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using policy::Cidr;
using policy::CidrSet;
using policy::IpAddress;
using policy::parse_cidr;
using policy::source_key;

TEST_CASE("IPv4 addresses parse into the first four bytes") {
  auto address = IpAddress::parse("10.1.2.3");
  REQUIRE(address.has_value());
  CHECK(address->is_v4);
  CHECK_FALSE(address->is_v4_mapped());
  CHECK(address->bits() == 32);
  CHECK(address->bytes[0] == 10);
  CHECK(address->bytes[1] == 1);
  CHECK(address->bytes[2] == 2);
  CHECK(address->bytes[3] == 3);
  for (size_t i = 4; i < 16; ++i) CHECK(address->bytes[i] == 0);
  CHECK(address->to_string() == "10.1.2.3");
}

TEST_CASE("IPv6 addresses parse into sixteen bytes") {
  auto address = IpAddress::parse("2001:db8::1");
  REQUIRE(address.has_value());
  CHECK_FALSE(address->is_v4);
  CHECK_FALSE(address->is_v4_mapped());
  CHECK(address->bits() == 128);
  CHECK(address->bytes[0] == 0x20);
  CHECK(address->bytes[1] == 0x01);
  CHECK(address->bytes[2] == 0x0d);
  CHECK(address->bytes[3] == 0xb8);
  CHECK(address->bytes[15] == 1);
  CHECK(address->to_string() == "2001:db8::1");
}

TEST_CASE("valid address strings round-trip through to_string in canonical form") {
  struct Case {
    const char* text;
    bool is_v4;
    const char* canonical;
  };
  const std::vector<Case> cases = {
      {"0.0.0.0", true, "0.0.0.0"},
      {"255.255.255.255", true, "255.255.255.255"},
      {"127.0.0.1", true, "127.0.0.1"},
      {"::", false, "::"},
      {"::1", false, "::1"},
      {"2001:DB8::1", false, "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", false, "2001:db8::1"},
      {"fe80::1:2", false, "fe80::1:2"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
      {"::ffff:10.1.2.3", false, "::ffff:10.1.2.3"},
      {"::ffff:a01:203", false, "::ffff:10.1.2.3"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    auto address = IpAddress::parse(c.text);
    REQUIRE(address.has_value());
    CHECK(address->is_v4 == c.is_v4);
    CHECK(address->to_string() == c.canonical);
  }
}

TEST_CASE("an IPv4-mapped IPv6 address is recognised and unmaps to its IPv4 address") {
  IpAddress mapped = ip("::ffff:10.1.2.3");
  CHECK_FALSE(mapped.is_v4);
  CHECK(mapped.is_v4_mapped());
  IpAddress plain = mapped.unmapped();
  CHECK(plain.is_v4);
  CHECK(plain == ip("10.1.2.3"));
  CHECK(plain.to_string() == "10.1.2.3");
}

TEST_CASE("unmapped() leaves IPv4 and ordinary IPv6 addresses unchanged") {
  for (const char* text : {"10.1.2.3", "0.0.0.0", "2001:db8::1", "::", "::1",
                           // IPv4-compatible (deprecated) and near-miss prefixes are not mapped
                           "::10.1.2.3", "::fffe:10.1.2.3", "1::ffff:10.1.2.3", "64:ff9b::10.1.2.3"}) {
    CAPTURE(std::string(text));
    IpAddress address = ip(text);
    CHECK_FALSE(address.is_v4_mapped());
    CHECK(address.unmapped() == address);
  }
}

TEST_CASE("v4() and v6() build the same addresses parse() does") {
  const uint8_t four[4] = {192, 0, 2, 7};
  CHECK(IpAddress::v4(four) == ip("192.0.2.7"));
  uint8_t sixteen[16] = {0x20, 0x01, 0x0d, 0xb8};
  sixteen[15] = 9;
  CHECK(IpAddress::v6(sixteen) == ip("2001:db8::9"));
  // The same bytes in the other family are a different address.
  CHECK_FALSE(IpAddress::v4(four) == IpAddress::v6(sixteen));
}

TEST_CASE("an IPv4 address and its mapped form compare unequal until unmapped") {
  CHECK_FALSE(ip("10.1.2.3") == ip("::ffff:10.1.2.3"));
  CHECK(ip("10.1.2.3") == ip("::ffff:10.1.2.3").unmapped());
}

TEST_CASE("invalid address strings are refused") {
  for (const char* text : {"", " ", "10.1.2", "10.1.2.3.4", "256.0.0.1", "10.1.2.3 ", " 10.1.2.3", "10.1.2.-3",
                           "010.1.2.3", "0x0a.1.2.3", "10.1.2.3/8", "a.b.c.d", "localhost", ":::", "1:2:3:4:5:6:7:8:9",
                           "2001:db8::1::2", "2001:db8:::1", "fe80::1%eth0", "[::1]", "::ffff:10.1.2", "12345::",
                           "g::1", "10.1.2.3:80"}) {
    CAPTURE(std::string(text));
    CHECK_FALSE(IpAddress::parse(text).has_value());
  }
}

TEST_CASE("an embedded NUL makes an address invalid") {
  CHECK_FALSE(IpAddress::parse(std::string("10.1.2.3\0junk", 13)).has_value());
  CHECK_FALSE(IpAddress::parse(std::string("10.1.2.3\0", 9)).has_value());
  std::string error;
  CHECK_FALSE(parse_cidr(std::string("10.0.0.0\0junk/8", 15), error).has_value());
}

TEST_CASE("valid CIDR forms parse to network and prefix") {
  struct Case {
    const char* text;
    const char* network;
    unsigned prefix;
    bool is_v4;
  };
  const std::vector<Case> cases = {
      {"10.0.0.0/8", "10.0.0.0", 8, true},
      {"203.0.113.0/24", "203.0.113.0", 24, true},
      {"203.0.113.4/32", "203.0.113.4", 32, true},
      {"0.0.0.0/0", "0.0.0.0", 0, true},
      {"10.128.0.0/9", "10.128.0.0", 9, true},
      {"10.1.2.2/31", "10.1.2.2", 31, true},
      {"2001:db8::/32", "2001:db8::", 32, false},
      {"2001:db8::1/128", "2001:db8::1", 128, false},
      {"::/0", "::", 0, false},
      {"fe80::/10", "fe80::", 10, false},
      {"2001:db8:0:1::/64", "2001:db8:0:1::", 64, false},
      {"::ffff:10.0.0.0/104", "::ffff:10.0.0.0", 104, false},
      // A bare address is a single-address block.
      {"10.1.2.3", "10.1.2.3", 32, true},
      {"2001:db8::7", "2001:db8::7", 128, false},
      {"::ffff:10.1.2.3", "::ffff:10.1.2.3", 128, false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    std::string error;
    auto block = parse_cidr(c.text, error);
    REQUIRE_MESSAGE(block.has_value(), error);
    CHECK(block->network.is_v4 == c.is_v4);
    CHECK(block->network.to_string() == c.network);
    CHECK(block->prefix == c.prefix);
    CHECK(block->to_string() == std::string(c.network) + "/" + std::to_string(c.prefix));
  }
}

TEST_CASE("CIDR prefix lengths are bounded by the address family") {
  struct Case {
    const char* text;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"0.0.0.0/0", true},       {"10.1.2.3/32", true},        {"10.1.2.3/33", false},
      {"10.0.0.0/99", false},    {"10.0.0.0/128", false},      {"10.0.0.0/999", false},
      {"10.0.0.0/1000", false},  {"10.0.0.0/4294967304", false}, {"::/0", true},
      {"::1/128", true},         {"::1/129", false},           {"::/255", false},
      {"::/256", false},         {"::/999", false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    std::string error;
    auto block = parse_cidr(c.text, error);
    CHECK(block.has_value() == c.valid);
    if (!c.valid) {
      CHECK(error.find("invalid prefix length") != std::string::npos);
      CHECK(error.find(c.text) != std::string::npos);
    }
  }
}

TEST_CASE("an invalid prefix length error names the family's range") {
  std::string error;
  CHECK_FALSE(parse_cidr("10.0.0.0/33", error).has_value());
  CHECK(error.find("(0-32)") != std::string::npos);
  error.clear();
  CHECK_FALSE(parse_cidr("::/129", error).has_value());
  CHECK(error.find("(0-128)") != std::string::npos);
}

TEST_CASE("malformed prefixes are refused, including leading zeros") {
  for (const char* text : {"10.0.0.0/", "10.0.0.0/08", "10.0.0.0/008", "10.0.0.0/00", "10.0.0.0/+8", "10.0.0.0/-8",
                           "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0.0/8/8", "10.0.0.0/x", "10.0.0.0/8.0", "10.0.0.0/0x8",
                           "2001:db8::/032", "::/00", "::/"}) {
    CAPTURE(std::string(text));
    std::string error;
    CHECK_FALSE(parse_cidr(text, error).has_value());
    CHECK(error.find("invalid prefix length") != std::string::npos);
  }
}

TEST_CASE("a CIDR whose address part is not an address is refused") {
  for (const char* text : {"", "/8", "10.0.0/8", "10.0.0.0.0/8", "example.com/24", " 10.0.0.0/8", "::ffff::/96",
                           "10.0.0.0\\8", "fe80::%eth0/64"}) {
    CAPTURE(std::string(text));
    std::string error;
    CHECK_FALSE(parse_cidr(text, error).has_value());
    CHECK(error.find("is not an IPv4 or IPv6 address or CIDR block") != std::string::npos);
  }
}

TEST_CASE("host bits set below the prefix are an error that suggests the network") {
  struct Case {
    const char* text;
    const char* suggestion;
  };
  const std::vector<Case> cases = {
      {"10.1.2.3/8", "10.0.0.0/8"},
      {"10.1.2.3/0", "0.0.0.0/0"},
      {"10.1.2.3/31", "10.1.2.2/31"},
      {"203.0.113.4/24", "203.0.113.0/24"},
      {"10.255.0.0/9", "10.128.0.0/9"},
      {"192.168.1.1/23", "192.168.0.0/23"},
      {"2001:db8::1/32", "2001:db8::/32"},
      {"2001:db8::1/127", "2001:db8::/127"},
      {"::1/0", "::/0"},
      {"fe80::1/10", "fe80::/10"},
      {"2001:db8:0:1:2::/64", "2001:db8:0:1::/64"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    std::string error;
    CHECK_FALSE(parse_cidr(c.text, error).has_value());
    CHECK(error.find("host bits set") != std::string::npos);
    CHECK(error.find(std::string("did you mean ") + c.suggestion + "?") != std::string::npos);
    CHECK(error.find(std::string("'") + c.text + "'") != std::string::npos);
  }
}

TEST_CASE("Cidr::contains table") {
  struct Case {
    const char* block;
    const char* address;
    bool contained;
  };
  const std::vector<Case> cases = {
      // IPv4 blocks, IPv4 sources
      {"10.0.0.0/8", "10.0.0.0", true},
      {"10.0.0.0/8", "10.255.255.255", true},
      {"10.0.0.0/8", "11.0.0.0", false},
      {"10.0.0.0/8", "9.255.255.255", false},
      {"10.128.0.0/9", "10.127.255.255", false},
      {"10.128.0.0/9", "10.128.0.0", true},
      {"203.0.113.4/32", "203.0.113.4", true},
      {"203.0.113.4/32", "203.0.113.5", false},
      {"10.1.2.2/31", "10.1.2.3", true},
      {"10.1.2.2/31", "10.1.2.4", false},
      {"0.0.0.0/0", "0.0.0.0", true},
      {"0.0.0.0/0", "255.255.255.255", true},
      // IPv4 blocks, IPv4-mapped IPv6 sources
      {"10.0.0.0/8", "::ffff:10.1.2.3", true},
      {"10.0.0.0/8", "::ffff:11.1.2.3", false},
      {"203.0.113.4/32", "::ffff:203.0.113.4", true},
      {"0.0.0.0/0", "::ffff:1.2.3.4", true},
      // IPv4 blocks never contain ordinary IPv6 sources, even with matching bytes
      {"0.0.0.0/0", "::", false},
      {"0.0.0.0/0", "2001:db8::1", false},
      {"10.0.0.0/8", "a00::", false},
      {"10.0.0.0/8", "::10.1.2.3", false},
      // IPv6 blocks, IPv6 sources
      {"2001:db8::/32", "2001:db8::1", true},
      {"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"2001:db8::/32", "2001:db9::", false},
      {"2001:db8::1/128", "2001:db8::1", true},
      {"2001:db8::1/128", "2001:db8::2", false},
      {"fe80::/10", "febf::1", true},
      {"fe80::/10", "fec0::1", false},
      {"::/0", "::", true},
      {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
      // IPv6 blocks never contain IPv4 sources; a mapped source is an IPv6 address to them
      {"::/0", "10.1.2.3", false},
      {"::/0", "0.0.0.0", false},
      {"::/0", "::ffff:10.1.2.3", true},
      {"::ffff:0:0/96", "::ffff:10.1.2.3", true},
      {"::ffff:0:0/96", "10.1.2.3", false},
      {"2001:db8::/32", "32.1.13.184", false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.block));
    CAPTURE(std::string(c.address));
    CHECK(cidr(c.block).contains(ip(c.address)) == c.contained);
  }
}

TEST_CASE("Cidr::covers table") {
  struct Case {
    const char* outer;
    const char* inner;
    bool covered;
  };
  const std::vector<Case> cases = {
      {"10.0.0.0/8", "10.0.0.0/8", true},
      {"10.0.0.0/8", "10.1.0.0/16", true},
      {"10.0.0.0/8", "10.1.2.3/32", true},
      {"10.0.0.0/8", "10.1.2.3", true},
      {"10.0.0.0/8", "0.0.0.0/0", false},
      {"10.0.0.0/8", "10.0.0.0/7", false},
      {"10.0.0.0/8", "11.0.0.0/16", false},
      {"10.0.0.0/9", "10.128.0.0/9", false},
      {"10.1.0.0/16", "10.0.0.0/8", false},
      {"0.0.0.0/0", "0.0.0.0/0", true},
      {"0.0.0.0/0", "203.0.113.0/24", true},
      {"2001:db8::/32", "2001:db8:1::/48", true},
      {"2001:db8::/32", "2001:db8::/32", true},
      {"2001:db8::/48", "2001:db8::/32", false},
      {"2001:db8::/32", "2001:db9::/48", false},
      {"::/0", "2001:db8::1", true},
      // Families never cover each other, not even through mapped addresses or /0.
      {"0.0.0.0/0", "::/0", false},
      {"::/0", "0.0.0.0/0", false},
      {"::/0", "10.0.0.0/8", false},
      {"10.0.0.0/8", "::ffff:10.1.0.0/112", false},
      {"::ffff:0:0/96", "10.0.0.0/8", false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.outer));
    CAPTURE(std::string(c.inner));
    CHECK(cidr(c.outer).covers(cidr(c.inner)) == c.covered);
  }
}

TEST_CASE("CidrSet contains an address when any block does") {
  CidrSet empty;
  CHECK(empty.empty());
  CHECK_FALSE(empty.contains(ip("10.1.2.3")));
  CHECK_FALSE(empty.covers(cidr("10.0.0.0/8")));

  CidrSet set({cidr("10.0.0.0/8"), cidr("203.0.113.0/24"), cidr("2001:db8::/32")});
  CHECK_FALSE(set.empty());
  CHECK(set.blocks().size() == 3);
  struct Case {
    const char* address;
    bool contained;
  };
  const std::vector<Case> cases = {
      {"10.9.9.9", true},        {"203.0.113.200", true},       {"::ffff:203.0.113.1", true},
      {"2001:db8::5", true},     {"192.0.2.1", false},          {"2001:db9::1", false},
      {"::ffff:192.0.2.1", false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.address));
    CHECK(set.contains(ip(c.address)) == c.contained);
  }
}

TEST_CASE("CidrSet covers a block when one of its blocks covers it") {
  CidrSet set({cidr("10.0.0.0/8"), cidr("2001:db8::/32")});
  CHECK(set.covers(cidr("10.1.0.0/16")));
  CHECK(set.covers(cidr("2001:db8:5::/48")));
  CHECK_FALSE(set.covers(cidr("11.0.0.0/8")));
  CHECK_FALSE(set.covers(cidr("0.0.0.0/0")));
}

TEST_CASE("CidrSet covers a block that several of its blocks cover together") {
  CidrSet halves({cidr("10.0.0.0/9"), cidr("10.128.0.0/9")});
  CHECK(halves.covers(cidr("10.0.0.0/9")));
  CHECK(halves.covers(cidr("10.200.0.0/16")));
  CHECK(halves.covers(cidr("10.0.0.0/8")));
  CHECK_FALSE(halves.covers(cidr("10.0.0.0/7")));
  CidrSet gap({cidr("10.0.0.0/10"), cidr("10.128.0.0/9")});  // 10.64.0.0/10 missing
  CHECK_FALSE(gap.covers(cidr("10.0.0.0/8")));
  CidrSet quarters({cidr("2001:db8::/34"), cidr("2001:db8:4000::/34"), cidr("2001:db8:8000::/33")});
  CHECK(quarters.covers(cidr("2001:db8::/32")));
  CHECK_FALSE(quarters.covers(cidr("2001:db8::/31")));
}

TEST_CASE("CidrSet merges overlapping and adjoining blocks, each family apart") {
  CHECK(CidrSet({cidr("10.0.0.0/9"), cidr("10.128.0.0/9")}).range_count() == 1);
  CHECK(CidrSet({cidr("10.0.0.0/8"), cidr("10.1.0.0/16"), cidr("10.1.2.3")}).range_count() == 1);
  CHECK(CidrSet({cidr("10.0.0.0/10"), cidr("10.128.0.0/9")}).range_count() == 2);
  CHECK(CidrSet({cidr("10.0.0.255"), cidr("10.0.1.0")}).range_count() == 1);
  CHECK(CidrSet({cidr("0.0.0.0/1"), cidr("128.0.0.0/1"), cidr("255.255.255.255")}).range_count() == 1);
  CHECK(CidrSet({cidr("::/1"), cidr("8000::/1"), cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}).range_count() == 1);
  // Adjoining across the 64-bit halves of an IPv6 address.
  CHECK(CidrSet({cidr("2001:db8::ffff:ffff:ffff:ffff"), cidr("2001:db8:0:1::/64")}).range_count() == 1);
  // 0.0.0.0/0 and ::/0 are in different spaces, as are 10.0.0.0/8 and its mapped form.
  CHECK(CidrSet({cidr("0.0.0.0/0"), cidr("::/0")}).range_count() == 2);
  CHECK(CidrSet({cidr("10.0.0.0/8"), cidr("::ffff:10.0.0.0/104")}).range_count() == 2);
  // What status shows stays as written.
  CidrSet written({cidr("10.128.0.0/9"), cidr("10.0.0.0/9")});
  REQUIRE(written.blocks().size() == 2);
  CHECK(written.blocks()[0].to_string() == "10.128.0.0/9");
  CHECK(written.blocks()[1].to_string() == "10.0.0.0/9");
}

TEST_CASE("CidrSet matches IPv4-mapped sources against IPv4 blocks and against IPv6 blocks") {
  CidrSet v4({cidr("10.0.0.0/8")});
  CHECK(v4.contains(ip("::ffff:10.1.2.3")));
  CHECK_FALSE(v4.contains(ip("::ffff:11.1.2.3")));
  CHECK_FALSE(v4.contains(ip("::10.1.2.3")));
  CidrSet v6({cidr("::ffff:0:0/96")});
  CHECK(v6.contains(ip("::ffff:10.1.2.3")));
  CHECK_FALSE(v6.contains(ip("10.1.2.3")));
  CHECK_FALSE(v6.covers(cidr("10.0.0.0/8")));
  CHECK_FALSE(v4.covers(cidr("::ffff:10.0.0.0/104")));
}

namespace {

// A block whose network is `bytes` with the host bits below `prefix` cleared.
Cidr block_of(bool is_v4, std::array<uint8_t, 16> bytes, uint8_t prefix) {
  IpAddress network = is_v4 ? IpAddress::v4(bytes.data()) : IpAddress::v6(bytes.data());
  size_t bits = network.bits();
  for (size_t bit = prefix; bit < bits; ++bit) network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  return Cidr{network, prefix};
}

// Random blocks and addresses crowded into a few small regions (IPv4, IPv6,
// and the IPv4-mapped IPv6 range) so that blocks overlap, nest and adjoin.
struct RandomBlocks {
  std::mt19937 random;

  explicit RandomBlocks(uint32_t seed) : random(seed) {}

  uint32_t below(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(random); }

  Cidr block() {
    std::array<uint8_t, 16> bytes{};
    uint32_t offset = below(1u << 12);
    switch (below(8)) {
      case 0:  // rarely, a whole family
        return below(2) ? cidr("0.0.0.0/0") : cidr("::/0");
      case 1:
      case 2:
      case 3:
        bytes = {10, 0, static_cast<uint8_t>(offset >> 8), static_cast<uint8_t>(offset)};
        return block_of(true, bytes, static_cast<uint8_t>(19 + below(14)));
      case 4:
        bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, static_cast<uint8_t>(offset >> 8),
                 static_cast<uint8_t>(offset)};
        return block_of(false, bytes, static_cast<uint8_t>(115 + below(14)));
      default:
        bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(offset >> 8),
                 static_cast<uint8_t>(offset)};
        // Sometimes straddling the two 64-bit halves.
        if (below(4) == 0) bytes[7] = static_cast<uint8_t>(below(2) ? 0xff : 0);
        return block_of(false, bytes, static_cast<uint8_t>(below(4) == 0 ? 50 + below(20) : 115 + below(14)));
    }
  }

  IpAddress address() {
    Cidr around = block();
    IpAddress address = around.network;
    // Random host bits: anywhere in a random block.
    for (size_t i = around.prefix / 8; i < address.bits() / 8; ++i) {
      uint32_t host_mask = i == around.prefix / 8 ? 0xFFu >> (around.prefix % 8) : 0xFFu;
      address.bytes[i] = static_cast<uint8_t>(address.bytes[i] | (below(256) & host_mask));
    }
    if (below(4) == 0 && address.is_v4) {
      std::array<uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      std::copy_n(address.bytes.begin(), 4, mapped.begin() + 12);
      return IpAddress::v6(mapped.data());
    }
    return address;
  }
};

}  // namespace

TEST_CASE("CidrSet agrees with the linear implementation on random sets") {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    RandomBlocks random(seed);
    // A third are siblings of earlier blocks: regions that only several
    // blocks cover together, and ranges that adjoin.
    std::vector<Cidr> blocks;
    for (uint32_t n = random.below(40); n > 0; --n) {
      if (!blocks.empty() && random.below(3) == 0) {
        Cidr sibling = blocks[random.below(static_cast<uint32_t>(blocks.size()))];
        if (sibling.prefix > 0) {
          sibling.network.bytes[(sibling.prefix - 1) / 8] ^= static_cast<uint8_t>(0x80 >> ((sibling.prefix - 1) % 8));
        }
        blocks.push_back(sibling);
      } else {
        blocks.push_back(random.block());
      }
    }
    CidrSet set(blocks);
    for (int i = 0; i < 200; ++i) {
      IpAddress address = random.address();
      CAPTURE(address.to_string());
      CHECK(set.contains(address) == naive::contains(blocks, address));
      Cidr block = random.block();
      CAPTURE(block.to_string());
      CHECK(set.covers(block) == naive::covers(blocks, block));
    }
    // The blocks themselves, their neighbours and the regions around them.
    for (const auto& block : blocks) {
      CHECK(set.covers(block));
      CHECK(set.contains(block.network));
      for (uint8_t wider : {uint8_t{1}, uint8_t{2}, uint8_t{8}}) {
        if (block.prefix < wider) continue;
        Cidr outer = block_of(block.network.is_v4, block.network.bytes, static_cast<uint8_t>(block.prefix - wider));
        CAPTURE(outer.to_string());
        CHECK(set.covers(outer) == naive::covers(blocks, outer));
      }
    }
  }
}

TEST_CASE("quadratic policy check: covers and contains on 65536 blocks finish") {
  // Every /48 of 2001:db8::/32 but one, in shuffled order. The linear
  // covers() visits every block for each of the 2 x 65536 halves it splits
  // 2001:db8::/32 into: hours for the queries below.
  std::vector<Cidr> blocks;
  for (uint32_t i = 0; i < 65536; ++i) {
    if (i == 40000) continue;
    std::array<uint8_t, 16> bytes{0x20, 0x01, 0x0d, 0xb8, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    blocks.push_back(block_of(false, bytes, 48));
  }
  std::shuffle(blocks.begin(), blocks.end(), std::mt19937(7));
  CidrSet set(std::move(blocks));
  CHECK(set.range_count() == 2);
  for (int i = 0; i < 1000; ++i) {
    CHECK_FALSE(set.covers(cidr("2001:db8::/32")));
    CHECK(set.covers(cidr("2001:db8::/33")));
    CHECK_FALSE(set.covers(cidr("2001:db8:8000::/33")));
    CHECK(set.covers(cidr("2001:db8:9c41::/48")));
    CHECK_FALSE(set.covers(cidr("2001:db8:9c40::/64")));
    CHECK(set.contains(ip("2001:db8:9c3f::1")));
    CHECK_FALSE(set.contains(ip("2001:db8:9c40::1")));
  }
}

TEST_CASE("source_key keeps IPv4 addresses whole") {
  for (uint8_t prefix : {uint8_t{0}, uint8_t{48}, uint8_t{64}, uint8_t{128}}) {
    CAPTURE(unsigned(prefix));
    CHECK(source_key(ip("10.1.2.3"), prefix) == ip("10.1.2.3"));
    CHECK(source_key(ip("255.255.255.255"), prefix) == ip("255.255.255.255"));
  }
}

TEST_CASE("source_key unmaps IPv4-mapped sources to their IPv4 address") {
  for (uint8_t prefix : {uint8_t{0}, uint8_t{64}, uint8_t{128}}) {
    CAPTURE(unsigned(prefix));
    IpAddress key = source_key(ip("::ffff:10.1.2.3"), prefix);
    CHECK(key.is_v4);
    CHECK(key == ip("10.1.2.3"));
    // ...so a mapped and a plain IPv4 source share one key.
    CHECK(key == source_key(ip("10.1.2.3"), prefix));
  }
}

TEST_CASE("source_key cuts IPv6 sources to the prefix") {
  struct Case {
    const char* address;
    uint8_t prefix;
    const char* key;
  };
  const std::vector<Case> cases = {
      {"2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::"},
      {"2001:db8:1:2:ffff:ffff:ffff:ffff", 64, "2001:db8:1:2::"},
      {"2001:db8:1:3::1", 64, "2001:db8:1:3::"},
      {"2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6"},
      {"2001:db8:1:2:3:4:5:6", 56, "2001:db8:1::"},
      {"2001:db8:1:2ff:3:4:5:6", 56, "2001:db8:1:200::"},
      {"2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::"},
      {"2001:db8:1:2:3:4:5:6", 60, "2001:db8:1::"},
      {"2001:db8:1:1f:3:4:5:6", 60, "2001:db8:1:10::"},
      {"2001:db8:1:2:3:4:5:6", 0, "::"},
      {"2001:db8:1:2:3:4:5:6", 1, "::"},
      {"ffff:db8:1:2:3:4:5:6", 1, "8000::"},
      {"2001:db8:1:2:3:4:5:7", 127, "2001:db8:1:2:3:4:5:6"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.address));
    CAPTURE(unsigned(c.prefix));
    IpAddress key = source_key(ip(c.address), c.prefix);
    CHECK_FALSE(key.is_v4);
    CHECK(key.to_string() == c.key);
  }
}

TEST_CASE("source_key with /64 puts two hosts of one /64 under one key and other /64s apart") {
  CHECK(source_key(ip("2001:db8:0:1::a"), 64) == source_key(ip("2001:db8:0:1::b"), 64));
  CHECK_FALSE(source_key(ip("2001:db8:0:1::a"), 64) == source_key(ip("2001:db8:0:2::a"), 64));
}
