#pragma once
// Giving up privilege for good: every capability in every set (effective,
// permitted, inheritable, bounding, ambient), supplementary groups, and the
// root user, then no_new_privs so nothing can be regained through exec.

#include <sys/types.h>

#include <string>

namespace sandbox {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Becomes `become` with no supplementary groups, or, when null, stays who it
// is (in a user namespace the process is already the unprivileged user
// outside, and the kernel forbids changing its groups), and drops every
// capability. Returns false with `error` on the first step that fails.
bool drop_privileges(const Identity* become, std::string& error);

}  // namespace sandbox
