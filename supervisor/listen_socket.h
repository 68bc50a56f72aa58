#pragma once
// The broker's sockets for a declared port: one IPv6 socket with IPV6_V6ONLY
// off, so a single socket serves IPv4 (as ::ffff:a.b.c.d) and IPv6 on all
// addresses; plain IPv4 on hosts without IPv6.

#include <cstdint>
#include <string>

#include "common/unique_fd.h"

namespace supervisor {

// `type` is SOCK_STREAM (bound and listening) or SOCK_DGRAM (bound).
common::UniqueFd open_dual_stack_socket(int type, uint16_t port, std::string& error);

}  // namespace supervisor
