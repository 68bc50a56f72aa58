#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "common/process.h"
#include "common/unique_fd.h"
#include "sandbox/credentials.h"
#include "sandbox/mount_root.h"
#include "sandbox/violation_report.h"

namespace sandbox {
namespace {

bool has(const Config& config, const char* name) {
  return std::find(config.namespaces.begin(), config.namespaces.end(), name) != config.namespaces.end();
}

// The effective, permitted, inheritable and ambient sets, as the kernel has them.
bool holds_no_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  for (const auto& part : data) {
    if (part.effective != 0 || part.permitted != 0 || part.inheritable != 0) return false;
  }
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) return false;
  }
  return true;
}

bool bounding_set_empty() {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) return false;
  }
  return true;
}

}  // namespace

Report confine(const Config& config) {
  Report report;
  std::string error;
  // Mapped by the supervisor's clone: "root" inside, its own user outside.
  bool user_namespace = has(config, "user");

  if (config.profile == Profile::worker) {
    if (!has(config, "mnt")) {
      report.missing.push_back("minimal root: no mount namespace");
    } else if (enter_minimal_root(config.handlers_dir, report.notes, error)) {
      report.minimal_root = true;
    } else {
      report.missing.push_back("minimal root: " + error);
    }
  }
  // Cosmetic: the namespace is what isolates; a name it failed to set only
  // shows the host's in a handler's os.hostname().
  if (has(config, "uts") && sethostname("portbroker", 10) != 0) report.notes.push_back("hostname not set");

  // -- privileges end here --
  // Inside a user namespace there is no other user to become: the process is
  // already the supervisor's (unprivileged) user outside. Without one, a
  // supervisor that is not root cannot change users either.
  Identity target{config.uid, config.gid};
  bool change_user = !user_namespace && geteuid() == 0;
  if (user_namespace) {
    report.notes.push_back("user namespace: runs as the supervisor's user; its supplementary groups stay "
                           "(the kernel forbids dropping them without privilege)");
  } else if (!change_user) {
    report.missing.push_back("user: the supervisor is not root, so the worker keeps its user");
  }
  if (!drop_privileges(change_user ? &target : nullptr, error)) {
    report.fatal = "cannot drop privileges: " + error;
    return report;
  }
  report.no_new_privs = true;
  if (geteuid() == 0 && !user_namespace) {
    report.fatal = "still running as root after dropping privileges";
    return report;
  }
  if (!holds_no_capabilities()) {
    report.fatal = "capabilities remain after dropping them";
    return report;
  }
  if (!bounding_set_empty()) {
    // Only without any privilege to drop it (a normal user, no user
    // namespace); no_new_privs keeps exec from granting any of it.
    report.missing.push_back("capability bounding set: cannot be emptied without CAP_SETPCAP");
  }
  if (!apply_limits(config.limits, error)) report.missing.push_back("limits: " + error);
  if constexpr (!kAddressSpaceLimited) report.notes.push_back(kAddressSpaceNote);

  if (config.profile == Profile::worker) {
    // Opened as the worker user: what it cannot read is not read for it.
    const char* folder = report.minimal_root ? kHandlersMountPoint : config.handlers_dir.c_str();
    report.handlers_dir.reset(open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!report.handlers_dir) {
      report.fatal = "cannot open the handlers folder " + config.handlers_dir + " as the worker user: " +
                     common::errno_text(errno);
      return report;
    }
    report.statm.reset(open("/proc/self/statm", O_RDONLY | O_CLOEXEC));
    if (!report.statm) report.missing.push_back("memory watchdog: cannot read /proc/self/statm");
  }

  install_violation_report(config.channel_fd);
  if (!install_seccomp(config.profile, report.handlers_dir.get(), error)) {
    report.fatal = "cannot install the seccomp filter: " + error;
    return report;
  }
  report.seccomp = true;
  report.confined = true;
  for (const char* name : {"mnt", "net", "pid", "ipc", "uts"}) {
    if (!has(config, name)) report.missing.push_back(std::string(name) + " namespace");
  }
  return report;
}

std::vector<std::string> namespaces_from_environment() {
  std::vector<std::string> names;
  const char* text = getenv(common::kNamespacesVariable);
  std::stringstream list(text != nullptr ? text : "");
  for (std::string name; std::getline(list, name, ',');) {
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

}  // namespace sandbox
