#pragma once
// Checks on a descriptor the store inherits from the supervisor before it
// trusts it as a socket of the kind it expects.

#include <optional>
#include <string>

namespace store {

// Why `fd` is not an open socket of `type` (SOCK_STREAM, SOCK_SEQPACKET, ...),
// named `type_name` in the message; nullopt when it is.
std::optional<std::string> check_socket_type(int fd, int type, const char* type_name);

}  // namespace store
