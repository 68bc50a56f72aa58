#include "sandbox/mount_root.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/process.h"
#include "common/unique_fd.h"

namespace sandbox {
namespace {

constexpr unsigned long kReadOnlyFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

bool fail(std::string& error, const std::string& what) {
  error = what + ": " + common::errno_text(errno);
  return false;
}

bool make_file(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0) return false;
  close(fd);
  return true;
}

// Binds `source` read-only at `target` (a file or a directory that exists).
// Not recursive: mounts below `source` stay out, so none of them can be
// writable. A bind that cannot be made read-only is undone.
bool bind_read_only(const std::string& source, const std::string& target) {
  if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) return false;
  if (mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | kReadOnlyFlags, nullptr) == 0) return true;
  int err = errno;
  umount2(target.c_str(), MNT_DETACH);
  errno = err;
  return false;
}

// A directory to build the root on: any existing one will do, since the
// tmpfs is mounted over it only inside this private namespace.
std::string staging_dir() {
  for (const char* candidate : {"/tmp", "/mnt", "/run", "/var/tmp"}) {
    struct stat info {};
    if (stat(candidate, &info) == 0 && S_ISDIR(info.st_mode)) return candidate;
  }
  return {};
}

bool build_root(const std::string& root, const std::string& handlers_dir, std::vector<std::string>& notes,
                std::string& error) {
  // Opened before the tmpfs goes up: the folder may live under the staging
  // directory (tests keep it under /tmp) and be hidden by it afterwards.
  common::UniqueFd handlers(open(handlers_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!handlers) return fail(error, "opening the handlers folder " + handlers_dir);
  if (mount("portbroker-root", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755") != 0) {
    return fail(error, "mounting the root tmpfs");
  }
  for (const char* dir : {"/handlers", "/proc", "/dev", "/etc", "/etc/ssl", "/etc/ssl/certs", "/sys", "/sys/devices", "/sys/devices/system",
                          "/sys/devices/system/cpu", "/usr", "/usr/share", "/usr/share/zoneinfo", "/.old"}) {
    if (mkdir((root + dir).c_str(), 0755) != 0) return fail(error, std::string("creating ") + dir);
  }
  if (!bind_read_only("/proc/self/fd/" + std::to_string(handlers.get()), root + kHandlersMountPoint)) {
    return fail(error, "binding the handlers folder " + handlers_dir);
  }
  // The engine reads its own /proc entries at start-up; a fresh, read-only
  // procfs shows only the processes of this PID namespace, and (subset=pid)
  // none of the system-wide files.
  std::string proc = root + "/proc";
  constexpr unsigned long kProcFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  if (mount("proc", proc.c_str(), "proc", kProcFlags, "subset=pid,hidepid=invisible") != 0) {
    // Kernels before 5.8 have no subset=pid: the whole procfs (of this PID
    // namespace) is visible then, system-wide files included, and status
    // says so rather than passing it over.
    std::string reason = common::errno_text(errno);
    if (mount("proc", proc.c_str(), "proc", kProcFlags, nullptr) != 0) {
      notes.push_back("no /proc (" + common::errno_text(errno) + ")");
    } else {
      notes.push_back("/proc is the full procfs of the worker's PID namespace, not subset=pid (" + reason + ")");
    }
  }
  if (!make_file(root + "/dev/null") || mount("/dev/null", (root + "/dev/null").c_str(), nullptr, MS_BIND, nullptr) != 0) {
    notes.push_back("no /dev/null (" + common::errno_text(errno) + ")");
  }
  struct stat info {};
  if (stat("/etc/localtime", &info) == 0) {
    if (!make_file(root + "/etc/localtime") || !bind_read_only("/etc/localtime", root + "/etc/localtime")) {
      notes.push_back("no /etc/localtime (" + common::errno_text(errno) + ")");
    }
  }
  // The host's CA bundle, public and read-only, for tls.connect's default
  // trust (worker/tls_client.h reads it at this path). Symlinks are resolved
  // here: nothing they point to exists inside the root.
  if (char* bundle = realpath(kCaBundlePath, nullptr)) {
    std::string source(bundle);
    free(bundle);
    if (!make_file(root + kCaBundlePath) || !bind_read_only(source, root + kCaBundlePath)) {
      notes.push_back(std::string("no CA bundle (") + common::errno_text(errno) + ")");
    }
  }
  // The time-zone database, public and read-only, for the C library's
  // local time (ICU carries its own copy).
  if (stat("/usr/share/zoneinfo", &info) == 0 && !bind_read_only("/usr/share/zoneinfo", root + "/usr/share/zoneinfo")) {
    notes.push_back("no /usr/share/zoneinfo (" + common::errno_text(errno) + ")");
  }
  if (!bind_read_only("/sys/devices/system/cpu", root + "/sys/devices/system/cpu")) {
    notes.push_back("no CPU list (" + common::errno_text(errno) + ")");
  }
  if (syscall(SYS_pivot_root, root.c_str(), (root + "/.old").c_str()) != 0) return fail(error, "pivot_root");
  if (chdir("/") != 0) return fail(error, "chdir to the new root");
  if (umount2("/.old", MNT_DETACH) != 0) return fail(error, "detaching the host's root");
  rmdir("/.old");
  if (mount("portbroker-root", "/", "tmpfs", MS_REMOUNT | kReadOnlyFlags, nullptr) != 0) {
    return fail(error, "making the root read-only");
  }
  return true;
}

}  // namespace

bool enter_minimal_root(const std::string& handlers_dir, std::vector<std::string>& notes, std::string& error) {
  // Nothing mounted here may propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(error, "making mounts private");
  std::string root = staging_dir();
  if (root.empty()) {
    error = "no directory to build the root on (/tmp, /mnt, /run)";
    return false;
  }
  if (build_root(root, handlers_dir, notes, error)) return true;
  // A half-built root must not hide the host's directory the caller may
  // still need (the handlers folder itself can live under it).
  umount2(root.c_str(), MNT_DETACH);
  return false;
}

}  // namespace sandbox
