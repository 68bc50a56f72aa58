#pragma once
// The system calls a confined process may make, in one place, grouped with the
// reason each group is needed. Everything else traps (SIGSYS): the violation
// is reported to the supervisor and the process dies. clone3, which the C
// library merely probes, fails with ENOSYS instead.

#include <string>

namespace sandbox {

enum class Profile {
  worker,  // runs handler JavaScript: SpiderMonkey (JIT), libuv, handed-off sockets, module files
  store,   // the shared store: accepts on its passed listening socket, no files
};

// Builds and loads the filter for the calling process (and any threads it
// has). `handlers_dir_fd` is the only directory openat2 may resolve from (-1:
// openat2 is not allowed). Returns false with `error` if the kernel refused it.
bool install_seccomp(Profile profile, int handlers_dir_fd, std::string& error);

}  // namespace sandbox
