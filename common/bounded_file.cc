#include "common/bounded_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/process.h"

namespace common {
namespace {

bool check_owner_and_mode(const struct stat& info, const std::string& label, const FileRules& rules,
                          std::string& error) {
  if (rules.owner && info.st_uid != *rules.owner && info.st_uid != 0) {
    error = label + ": owned by uid " + std::to_string(info.st_uid) + "; it must belong to root";
    return false;
  }
  if ((info.st_mode & rules.forbidden_mode) != 0) {
    error = label + ": its mode " + mode_text(info.st_mode) + " gives others too much (none of " +
            mode_text(rules.forbidden_mode) + " may be set)";
    return false;
  }
  return true;
}

// Reads the whole of an open regular file, at most max_bytes.
bool read_bounded(int fd, const std::string& label, size_t max_bytes, std::string& out, std::string& error) {
  out.clear();
  out.resize(max_bytes + 1);
  size_t total = 0;
  while (total < out.size()) {
    ssize_t n = ::read(fd, out.data() + total, out.size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = label + ": cannot be read: " + errno_text(errno);
      return false;
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  if (total > max_bytes) {
    error = label + ": is larger than " + std::to_string(max_bytes) + " bytes";
    return false;
  }
  out.resize(total);
  return true;
}

bool check_regular(int fd, const std::string& label, size_t max_bytes, struct stat& info, std::string& error) {
  if (fstat(fd, &info) != 0) {
    error = label + ": cannot be read: " + errno_text(errno);
    return false;
  }
  if (!S_ISREG(info.st_mode)) {
    error = label + ": not a regular file";
    return false;
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    error = label + ": is larger than " + std::to_string(max_bytes) + " bytes";
    return false;
  }
  return true;
}

}  // namespace

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool open_directory(const std::string& path, const FileRules& rules, UniqueFd& out, std::string& error) {
  out.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!out) {
    error = path + ": cannot be opened: " + errno_text(errno);
    return false;
  }
  struct stat info {};
  if (fstat(out.get(), &info) != 0) {
    error = path + ": " + errno_text(errno);
    return false;
  }
  return check_owner_and_mode(info, path, rules, error);
}

bool read_file_beneath(int dir_fd, const std::string& relative, const std::string& label, const FileRules& rules,
                       std::string& out, std::string& error, struct stat* info_out) {
  open_how how{};
  how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (rules.follow_symlinks ? 0 : RESOLVE_NO_SYMLINKS);
  long fd;
  do {
    fd = syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) {
    switch (errno) {
      case EXDEV:
        error = label + ": resolves outside its folder";
        break;
      case ELOOP:
        error = label + (rules.follow_symlinks ? ": too many symbolic links" : ": is a symbolic link (not followed)");
        break;
      case ENOSYS:
        // A kernel before 5.6, or a seccomp filter: systemd's RestrictSUIDSGID=yes answers openat2 so.
        error = label + ": cannot be opened safely (openat2 is unavailable: Linux 5.6 or later is needed, and no "
                        "seccomp filter may refuse it, as systemd's RestrictSUIDSGID=yes does)";
        break;
      default:
        error = label + ": cannot be read: " + errno_text(errno);
    }
    return false;
  }
  UniqueFd file(static_cast<int>(fd));
  struct stat info {};
  if (!check_regular(file.get(), label, rules.max_bytes, info, error) ||
      !check_owner_and_mode(info, label, rules, error) || !read_bounded(file.get(), label, rules.max_bytes, out, error)) {
    return false;
  }
  if (info_out != nullptr) *info_out = info;
  return true;
}

bool read_regular_file(const std::string& path, size_t max_bytes, std::string& out, std::string& error) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!file) {
    error = path + ": cannot be read: " + errno_text(errno);
    return false;
  }
  struct stat info {};
  return check_regular(file.get(), path, max_bytes, info, error) && read_bounded(file.get(), path, max_bytes, out, error);
}

bool read_protected_file(const std::string& path, const FileRules& rules, std::string& out, std::string& error) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!file) {
    error = path + ": cannot be read: " + errno_text(errno);
    return false;
  }
  struct stat info {};
  return check_regular(file.get(), path, rules.max_bytes, info, error) &&
         check_owner_and_mode(info, path, rules, error) && read_bounded(file.get(), path, rules.max_bytes, out, error);
}

}  // namespace common
