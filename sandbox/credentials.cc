#include "sandbox/credentials.h"

#include <grp.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/process.h"

namespace sandbox {
namespace {

bool fail(std::string& error, const std::string& what) {
  error = what + ": " + common::errno_text(errno);
  return false;
}

}  // namespace

bool drop_privileges(const Identity* become, std::string& error) {
  // The bounding set first: dropping from it needs CAP_SETPCAP, which goes
  // with the user change below.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM) {
      return fail(error, "dropping capability " + std::to_string(cap) + " from the bounding set");
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return fail(error, "clearing ambient capabilities");
  }
  if (become != nullptr) {
    if (setgroups(0, nullptr) != 0) return fail(error, "clearing supplementary groups");
    if (setresgid(become->gid, become->gid, become->gid) != 0) {
      return fail(error, "setresgid(" + std::to_string(become->gid) + ")");
    }
    if (setresuid(become->uid, become->uid, become->uid) != 0) {
      return fail(error, "setresuid(" + std::to_string(become->uid) + ")");
    }
    // Changing credentials cleared the parent-death signal; the process must
    // still die with the supervisor.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return fail(error, "re-arming the parent-death signal");
  }
  // The user change cleared effective and permitted; inheritable too, here.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) != 0) return fail(error, "clearing capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(error, "setting no_new_privs");
  // Not dumpable: no core files, and /proc/<pid> is closed to processes of the
  // same user (other workers).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return true;
}

}  // namespace sandbox
