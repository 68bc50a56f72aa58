#include "common/socket_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace common {

SocketAddress SocketAddress::from_sockaddr(const sockaddr* addr, socklen_t length) {
  SocketAddress result;
  if (addr == nullptr || length > sizeof result.storage_) return result;
  // An IPv4 peer of the broker's dual-stack sockets arrives as ::ffff:a.b.c.d;
  // it is an IPv4 address, and is reported as one everywhere.
  if (addr->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      std::array<uint8_t, 16> four{};
      std::memcpy(four.data(), in6->sin6_addr.s6_addr + 12, 4);
      return from_parts(AF_INET, four, ntohs(in6->sin6_port));
    }
  }
  if ((addr->sa_family == AF_INET && length >= sizeof(sockaddr_in)) ||
      (addr->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6))) {
    std::memcpy(&result.storage_, addr, length);
    result.length_ = length;
  }
  return result;
}

SocketAddress SocketAddress::from_parts(int family, const std::array<uint8_t, 16>& bytes, uint16_t port) {
  SocketAddress result;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&result.storage_);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, bytes.data(), 4);
    result.length_ = sizeof(sockaddr_in);
  } else if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&result.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, bytes.data(), 16);
    result.length_ = sizeof(sockaddr_in6);
  }
  return result;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string SocketAddress::ip() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

std::string_view SocketAddress::family_name() const {
  return family() == AF_INET ? "IPv4" : family() == AF_INET6 ? "IPv6" : "";
}

std::string SocketAddress::to_string() const {
  if (family() == AF_INET6) return "[" + ip() + "]:" + std::to_string(port());
  if (family() == AF_INET) return ip() + ":" + std::to_string(port());
  return "-";
}

std::array<uint8_t, 16> SocketAddress::bytes() const {
  std::array<uint8_t, 16> out{};
  if (family() == AF_INET) {
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, 4);
  } else if (family() == AF_INET6) {
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, 16);
  }
  return out;
}

}  // namespace common
