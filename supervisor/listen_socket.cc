#include "supervisor/listen_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/process.h"

namespace supervisor {

common::UniqueFd open_dual_stack_socket(int type, uint16_t port, std::string& error) {
  const char* kind = type == SOCK_STREAM ? "tcp" : "udp";
  common::UniqueFd fd(socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  bool ipv6 = fd.valid();
  if (!ipv6 && errno == EAFNOSUPPORT) fd.reset(socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = std::string("cannot create a ") + kind + " socket: " + common::errno_text(errno);
    return {};
  }
  int on = 1;
  int off = 0;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  int rc;
  if (ipv6) {
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_any;
    address.sin6_port = htons(port);
    rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons(port);
    rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (rc != 0) {
    error = std::string("cannot bind ") + kind + " port " + std::to_string(port) + ": " + common::errno_text(errno);
    return {};
  }
  if (type == SOCK_STREAM && listen(fd.get(), SOMAXCONN) != 0) {
    error = "cannot listen on tcp port " + std::to_string(port) + ": " + common::errno_text(errno);
    return {};
  }
  return fd;
}

}  // namespace supervisor
