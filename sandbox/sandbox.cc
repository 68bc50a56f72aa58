#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

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

// The initial user namespace maps every id onto itself: "0 0 4294967295".
bool in_user_namespace() {
  common::UniqueFd fd(open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  char text[128] = {};
  ssize_t n = read(fd.get(), text, sizeof text - 1);
  if (n <= 0) return false;
  unsigned long inside = 0, outside = 0, count = 0;
  if (std::sscanf(text, "%lu %lu %lu", &inside, &outside, &count) != 3) return false;
  return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

}  // namespace

Report confine(const Config& config) {
  Report report;
  std::string error;
  // Mapped by the supervisor's clone: "root" inside, its own user outside.
  // Read from the kernel, not the config: the store is not told.
  bool user_namespace = in_user_namespace();
  report.user_namespace = user_namespace;

  if (config.profile == Profile::worker) {
    if (!has(config, "mnt")) {
      report.missing.push_back("minimal root: no mount namespace");
    } else if (enter_minimal_root(config.handlers_dir, report.notes, error)) {
      report.minimal_root = true;
    } else {
      report.missing.push_back("minimal root: " + error);
    }
  }
  if (has(config, "uts")) sethostname("portbroker", 10);

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
  if (!apply_limits(config.limits, error)) report.missing.push_back("limits: " + error);

  install_violation_report(config.channel_fd);
  if (!install_seccomp(config.profile, error)) {
    report.fatal = "cannot install the seccomp filter: " + error;
    return report;
  }
  report.seccomp = true;
  report.confined = true;
  // The store is not told its namespaces; the supervisor reports them.
  if (config.profile == Profile::worker) {
    for (const char* name : {"mnt", "net", "pid", "ipc", "uts"}) {
      if (!has(config, name)) report.missing.push_back(std::string(name) + " namespace");
    }
  }
  return report;
}

nlohmann::json Report::to_json(const Config& config) const {
  return {
      {"confined", confined},
      // As the host sees them (inside a user namespace the process is "root").
      {"uid", static_cast<int64_t>(user_namespace ? config.outer_uid : getuid())},
      {"gid", static_cast<int64_t>(user_namespace ? config.outer_gid : getgid())},
      {"namespaces", config.namespaces},
      {"minimal_root", minimal_root},
      {"seccomp", seccomp},
      {"no_new_privs", no_new_privs},
      {"capabilities", "none"},
      {"limits",
       {{"open_files", config.limits.open_files},
        {"processes", config.limits.processes},
        {"address_space_bytes", config.limits.address_space_bytes}}},
      {"missing", missing},
      {"notes", notes},
  };
}

}  // namespace sandbox
