#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/uv_handle.h"

#ifndef PORTBROKER_LIBEXECDIR
#define PORTBROKER_LIBEXECDIR "/usr/lib/portbroker"
#endif

namespace common {

std::string executable_dir() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return ".";
  return self.parent_path().string();
}

std::string find_helper_executable(std::string_view name) {
  // Beside the executable (a build tree), then where an install under any
  // prefix puts it (<prefix>/sbin/portbrokerd: <prefix>/libexec/portbroker/),
  // then the configured location.
  std::filesystem::path dir(executable_dir());
  for (const auto& candidate : {dir / name, dir.parent_path() / "libexec" / "portbroker" / name}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return (std::filesystem::path(PORTBROKER_LIBEXECDIR) / name).string();
}

void die_with_parent() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Checked after the death signal is armed, so there is no window. The
  // supervisor names itself: comparing with "1" would be wrong when the
  // broker itself is PID 1 (a container's entry point).
  // In a PID namespace of its own the parent is outside it and getppid() is 0:
  // then only the death signal guards (the channel's end of file too).
  const char* supervisor = getenv(kSupervisorPidVariable);
  pid_t parent = getppid();
  if (supervisor != nullptr && parent != 0 && parent != static_cast<pid_t>(std::atol(supervisor))) _exit(1);
}

void announce_supervisor() { setenv(kSupervisorPidVariable, std::to_string(getpid()).c_str(), 1); }

unsigned long raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

bool set_nonblocking(int fd, bool nonblocking) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  flags = nonblocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  return fcntl(fd, F_SETFL, flags) == 0;
}

bool set_cloexec(int fd, bool cloexec) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return false;
  flags = cloexec ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  return fcntl(fd, F_SETFD, flags) == 0;
}

std::string errno_text(int errnum) {
  char buf[128];
  return strerror_r(errnum, buf, sizeof buf);
}

void drain_and_close_loop(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* handle, void*) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

}  // namespace common
