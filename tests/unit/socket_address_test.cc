#include "common/socket_address.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using common::SocketAddress;
using Address16 = std::array<uint8_t, 16>;

namespace {

// The address bytes inet_pton gives for `text`, zero-padded to 16.
Address16 pton(int family, const char* text) {
  Address16 bytes{};
  REQUIRE(inet_pton(family, text, bytes.data()) == 1);
  return bytes;
}

sockaddr_in make_sockaddr_in(const char* ip, uint16_t port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, ip, &in.sin_addr) == 1);
  return in;
}

sockaddr_in6 make_sockaddr_in6(const char* ip, uint16_t port) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  REQUIRE(inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1);
  return in6;
}

}  // namespace

TEST_CASE("addresses are formatted as Node reports them") {
  struct Case {
    int family;
    const char* input;  // parsed with inet_pton
    uint16_t port;
    std::string ip;
    std::string family_name;
    std::string to_string;
  };
  const std::vector<Case> cases = {
      {AF_INET, "127.0.0.1", 80, "127.0.0.1", "IPv4", "127.0.0.1:80"},
      {AF_INET, "0.0.0.0", 0, "0.0.0.0", "IPv4", "0.0.0.0:0"},
      {AF_INET, "255.255.255.255", 65535, "255.255.255.255", "IPv4", "255.255.255.255:65535"},
      {AF_INET, "203.0.113.7", 7000, "203.0.113.7", "IPv4", "203.0.113.7:7000"},
      {AF_INET6, "::1", 80, "::1", "IPv6", "[::1]:80"},
      {AF_INET6, "::", 0, "::", "IPv6", "[::]:0"},
      {AF_INET6, "2001:db8::8a2e:370:7334", 443, "2001:db8::8a2e:370:7334", "IPv6", "[2001:db8::8a2e:370:7334]:443"},
      {AF_INET6, "fe80::1", 9000, "fe80::1", "IPv6", "[fe80::1]:9000"},
      {AF_INET6, "2001:DB8:0:0:1:0:0:1", 1, "2001:db8::1:0:0:1", "IPv6", "[2001:db8::1:0:0:1]:1"},
      {AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "IPv6",
       "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
      // An IPv4 peer of a dual-stack socket.
      {AF_INET6, "::ffff:1.2.3.4", 443, "::ffff:1.2.3.4", "IPv6", "[::ffff:1.2.3.4]:443"},
      {AF_INET6, "::ffff:127.0.0.1", 7000, "::ffff:127.0.0.1", "IPv6", "[::ffff:127.0.0.1]:7000"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.input));
    auto address = SocketAddress::from_parts(c.family, pton(c.family, c.input), c.port);
    REQUIRE(address.valid());
    CHECK(address.family() == c.family);
    CHECK(address.port() == c.port);
    CHECK(address.ip() == c.ip);
    CHECK(address.family_name() == c.family_name);
    CHECK(address.to_string() == c.to_string);
  }
}

TEST_CASE("from_parts and bytes() round-trip") {
  SUBCASE("IPv4 uses the first four bytes and reports them zero-padded") {
    Address16 input{10, 1, 2, 3, 0xde, 0xad, 0xbe, 0xef, 1, 1, 1, 1, 1, 1, 1, 1};
    auto address = SocketAddress::from_parts(AF_INET, input, 8080);
    CHECK(address.ip() == "10.1.2.3");
    CHECK(address.bytes() == Address16{10, 1, 2, 3});
    auto again = SocketAddress::from_parts(address.family(), address.bytes(), address.port());
    CHECK(again.to_string() == "10.1.2.3:8080");
    CHECK(again.length() == sizeof(sockaddr_in));
  }
  SUBCASE("IPv6 keeps all sixteen bytes") {
    Address16 input{0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    auto address = SocketAddress::from_parts(AF_INET6, input, 53);
    CHECK(address.bytes() == input);
    auto again = SocketAddress::from_parts(address.family(), address.bytes(), address.port());
    CHECK(again.bytes() == input);
    CHECK(again.port() == 53);
    CHECK(again.to_string() == address.to_string());
    CHECK(again.length() == sizeof(sockaddr_in6));
  }
}

TEST_CASE("sockaddr_ptr() and length() describe a sockaddr the kernel accepts") {
  auto v4 = SocketAddress::from_parts(AF_INET, pton(AF_INET, "192.0.2.1"), 0x1234);
  REQUIRE(v4.length() == sizeof(sockaddr_in));
  const auto* in = reinterpret_cast<const sockaddr_in*>(v4.sockaddr_ptr());
  CHECK(in->sin_family == AF_INET);
  CHECK(in->sin_port == htons(0x1234));  // network byte order
  CHECK(in->sin_addr.s_addr == htonl(0xC0000201));

  auto v6 = SocketAddress::from_parts(AF_INET6, pton(AF_INET6, "::1"), 0x1234);
  REQUIRE(v6.length() == sizeof(sockaddr_in6));
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(v6.sockaddr_ptr());
  CHECK(in6->sin6_family == AF_INET6);
  CHECK(in6->sin6_port == htons(0x1234));
  CHECK(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));

  // The kernel reads it back to the same address: bind a UDP socket to 127.0.0.1:0.
  auto loopback = SocketAddress::from_parts(AF_INET, pton(AF_INET, "127.0.0.1"), 0);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  CHECK(bind(fd, loopback.sockaddr_ptr(), loopback.length()) == 0);
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) == 0);
  close(fd);
  auto reported = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), bound_length);
  CHECK(reported.ip() == "127.0.0.1");
  CHECK(reported.port() != 0);
}

TEST_CASE("from_sockaddr reads IPv4 and IPv6 socket addresses") {
  auto in = make_sockaddr_in("198.51.100.20", 5353);
  auto v4 = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in);
  REQUIRE(v4.valid());
  CHECK(v4.to_string() == "198.51.100.20:5353");
  CHECK(v4.family_name() == "IPv4");
  CHECK(v4.length() == sizeof in);

  // An IPv4 peer of a dual-stack socket is an IPv4 address.
  auto mapped = make_sockaddr_in6("::ffff:198.51.100.20", 5353);
  auto unmapped = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&mapped), sizeof mapped);
  REQUIRE(unmapped.valid());
  CHECK(unmapped.family() == AF_INET);
  CHECK(unmapped.to_string() == "198.51.100.20:5353");
  CHECK(unmapped.family_name() == "IPv4");
  CHECK(unmapped.length() == sizeof(sockaddr_in));

  auto in6 = make_sockaddr_in6("2001:db8::20", 5353);
  auto v6 = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6);
  REQUIRE(v6.valid());
  CHECK(v6.to_string() == "[2001:db8::20]:5353");
  CHECK(v6.family_name() == "IPv6");
  CHECK(v6.length() == sizeof in6);
  CHECK(v6.bytes() == pton(AF_INET6, "2001:db8::20"));
}

TEST_CASE("invalid input gives an invalid address with empty forms") {
  auto in = make_sockaddr_in("1.2.3.4", 80);
  auto in6 = make_sockaddr_in6("::1", 80);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/tmp/x");
  sockaddr_storage huge{};
  huge.ss_family = AF_INET;

  struct Case {
    const char* label;
    SocketAddress address;
  };
  const std::vector<Case> cases = {
      {"default constructed", SocketAddress()},
      {"from_parts with AF_UNIX", SocketAddress::from_parts(AF_UNIX, Address16{1, 2, 3, 4}, 80)},
      {"from_parts with AF_UNSPEC", SocketAddress::from_parts(AF_UNSPEC, Address16{}, 80)},
      {"null sockaddr", SocketAddress::from_sockaddr(nullptr, sizeof in)},
      {"short sockaddr_in", SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in - 1)},
      {"short sockaddr_in6", SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6 - 1)},
      {"IPv6 family with an IPv4 length", SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in)},
      {"unix socket", SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&un), sizeof un)},
      {"longer than sockaddr_storage",
       SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&huge), sizeof huge + 1)},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    CHECK_FALSE(c.address.valid());
    CHECK(c.address.port() == 0);
    CHECK(c.address.ip().empty());
    CHECK(c.address.family_name().empty());
    CHECK(c.address.to_string() == "-");
    CHECK(c.address.bytes() == Address16{});
    CHECK(c.address.length() == 0);
  }
}
