#pragma once
// Confining a helper process, as an ordered list of steps run at its very
// start, before any thread exists and before any untrusted input is handled.
// The supervisor already started it in namespaces of its own (clone3).
//   1. the minimal root (mount namespace): only the handlers folder, read-only
//   2. hostname (UTS namespace)
//   -- privileges end here --
//   3. user, groups, every capability, no_new_privs
//   4. resource limits
//   5. the descriptors the process keeps reading through (the handlers folder,
//      its own memory figures), opened before seccomp narrows opens
//   6. seccomp, last
// Layers the environment cannot provide (no root, no user namespaces) are
// skipped and reported; dropping privileges and seccomp are never skipped
// silently: the report says what is missing, and the caller decides.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "sandbox/limits.h"
#include "sandbox/seccomp_policy.h"

namespace sandbox {

struct Config {
  Profile profile = Profile::worker;
  uid_t uid = 0;  // target user (used when running as root)
  gid_t gid = 0;
  // The supervisor's own ids, for the id maps of a user namespace.
  uid_t outer_uid = 0;
  gid_t outer_gid = 0;
  // Namespaces the supervisor created for this process, by name
  // ("user", "mnt", "net", "pid", "ipc", "uts"): namespaces_from_environment().
  std::vector<std::string> namespaces;
  std::string handlers_dir;  // worker: bound read-only at /handlers
  Limits limits;
  int channel_fd = -1;  // where a seccomp violation is reported
};

struct Report {
  bool confined = false;  // privileges dropped and seccomp on: safe to run handler code
  std::string fatal;      // why it is not, when it is not
  bool minimal_root = false;
  bool seccomp = false;
  bool no_new_privs = false;
  std::vector<std::string> missing;  // layers that could not be built, with the reason
  std::vector<std::string> notes;
  // Worker: the handlers folder (module loading; the only directory openat2
  // may start from) and /proc/self/statm (the memory watchdog).
  common::UniqueFd handlers_dir;
  common::UniqueFd statm;
};

Report confine(const Config& config);

// What the supervisor put in kNamespacesVariable.
std::vector<std::string> namespaces_from_environment();

}  // namespace sandbox
