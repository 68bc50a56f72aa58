#pragma once
// An IPv4 or IPv6 socket address with the textual forms handlers see. An IPv4
// peer of the broker's dual-stack sockets (::ffff:a.b.c.d as the kernel gives
// it) is an IPv4 address here, family "IPv4": what operators write in
// manifests, and what Go and Deno report. Node, listening on ::, would say
// "::ffff:a.b.c.d" and "IPv6" (docs/handlers.md).

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

namespace common {

class SocketAddress {
 public:
  SocketAddress() = default;
  // IPv4-mapped IPv6 addresses become IPv4 ones.
  static SocketAddress from_sockaddr(const sockaddr* addr, socklen_t length);
  // family is AF_INET (first 4 bytes of `bytes` used) or AF_INET6.
  static SocketAddress from_parts(int family, const std::array<uint8_t, 16>& bytes, uint16_t port);

  bool valid() const { return storage_.ss_family == AF_INET || storage_.ss_family == AF_INET6; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  std::string ip() const;               // "127.0.0.1", "::1", "::ffff:127.0.0.1"
  std::string_view family_name() const;  // "IPv4" / "IPv6"
  std::string to_string() const;         // "127.0.0.1:80", "[::1]:80"
  // Address bytes in network order: 4 for IPv4, 16 for IPv6, zero-padded.
  std::array<uint8_t, 16> bytes() const;

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace common
