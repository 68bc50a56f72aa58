#pragma once
// The file system a confined worker sees: a small read-only tmpfs root holding
// the handlers folder (read-only, at kHandlersMountPoint) and the few files
// the engine and libuv read at start-up (/proc of its own PID namespace,
// /dev/null, /etc/localtime, the time-zone database, the CPU list), and the
// host's CA bundle for tls.connect. Nothing else of the host.
// Requires a mount namespace of its own and CAP_SYS_ADMIN in it.

#include <string>
#include <vector>

namespace sandbox {

inline constexpr const char* kHandlersMountPoint = "/handlers";
// The host's CA bundle (Debian's ca-certificates), at the same path inside
// as outside, resolved through symlinks when bound.
inline constexpr const char* kCaBundlePath = "/etc/ssl/certs/ca-certificates.crt";

// On success the process's root is the new root. `notes` collects the parts
// that could not be provided (e.g. /proc outside a PID namespace).
bool enter_minimal_root(const std::string& handlers_dir, std::vector<std::string>& notes, std::string& error);

}  // namespace sandbox
