#include "sandbox/seccomp_policy.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "common/sanitizers.h"

namespace sandbox {
namespace {

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

bool allow(scmp_filter_ctx ctx, std::initializer_list<const char*> names, std::string& error) {
  for (const char* name : names) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0); rc != 0) {
      error = std::string("seccomp rule for ") + name + ": " + std::strerror(-rc);
      return false;
    }
  }
  return true;
}

template <typename... Conditions>
bool allow_if(scmp_filter_ctx ctx, const char* name, std::string& error, Conditions... conditions) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return true;
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, sizeof...(conditions), conditions...); rc != 0) {
    error = std::string("seccomp rule for ") + name + ": " + std::strerror(-rc);
    return false;
  }
  return true;
}

// getsockopt/setsockopt at `level` for each of `names`.
bool allow_option(scmp_filter_ctx ctx, const char* call, int level, std::initializer_list<int> names,
                  std::string& error) {
  for (int name : names) {
    if (!allow_if(ctx, call, error, SCMP_A1_32(SCMP_CMP_EQ, static_cast<uint32_t>(level)),
                  SCMP_A2_32(SCMP_CMP_EQ, static_cast<uint32_t>(name)))) {
      return false;
    }
  }
  return true;
}

bool fail_with(scmp_filter_ctx ctx, const char* name, int errnum, std::string& error) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return true;
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(static_cast<uint32_t>(errnum)), nr, 0); rc != 0) {
    error = std::string("seccomp rule for ") + name + ": " + std::strerror(-rc);
    return false;
  }
  return true;
}

constexpr uint64_t kThreadCloneMask = CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                                     CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

bool common_rules(scmp_filter_ctx ctx, std::string& error) {
  return
      // Memory: malloc, the GC's chunks, the JIT's executable pages.
      allow(ctx, {"brk", "mmap", "munmap", "mprotect", "madvise", "mremap"}, error) &&
      // Threads and their synchronisation: the engine's helper threads and
      // the CPU watchdog. New threads only: clone without CLONE_THREAD (a new
      // process) or with a new namespace traps, and clone3 (whose flags
      // seccomp cannot see) reports ENOSYS so the C library falls back to clone.
      allow_if(ctx, "clone", error, SCMP_A0_64(SCMP_CMP_MASKED_EQ, kThreadCloneMask, CLONE_THREAD)) &&
      fail_with(ctx, "clone3", ENOSYS, error) &&
      allow(ctx, {"futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "gettid", "sched_yield",
                  "sched_getaffinity", "exit", "exit_group", "membarrier"},
            error) &&
      // Signals within the process (thread wake-ups, abort): tgkill only to
      // its own threads, and never a new SIGSYS handler, which would make
      // violations survivable and unreported.
      // restart_syscall: the kernel's own continuation of a sleep (epoll_wait,
      // nanosleep) interrupted by a stop/continue (SIGSTOP, a debugger or
      // tracer attaching); without it a `kill -STOP`/`-CONT` killed the worker.
      allow(ctx, {"rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall"}, error) &&
      allow_if(ctx, "rt_sigaction", error, SCMP_A0_32(SCMP_CMP_NE, SIGSYS)) &&
      allow_if(ctx, "tgkill", error, SCMP_A0_32(SCMP_CMP_EQ, static_cast<uint32_t>(getpid()))) &&
      // Time.
      allow(ctx, {"clock_gettime", "clock_getres", "gettimeofday", "nanosleep", "clock_nanosleep"}, error) &&
      // The event loop, on descriptors the process already holds.
      allow(ctx, {"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe2",
                  "read", "readv", "pread64", "write", "writev", "close", "lseek", "poll", "ppoll", "dup", "dup3"},
            error) &&
      // Descriptor flags and duplicates; not F_SETOWN/F_SETSIG (signals to
      // another process) nor leases or locks.
      allow_if(ctx, "fcntl", error, SCMP_A1_32(SCMP_CMP_EQ, F_GETFD)) &&
      allow_if(ctx, "fcntl", error, SCMP_A1_32(SCMP_CMP_EQ, F_SETFD)) &&
      allow_if(ctx, "fcntl", error, SCMP_A1_32(SCMP_CMP_EQ, F_GETFL)) &&
      allow_if(ctx, "fcntl", error, SCMP_A1_32(SCMP_CMP_EQ, F_SETFL)) &&
      allow_if(ctx, "fcntl", error, SCMP_A1_32(SCMP_CMP_EQ, F_DUPFD_CLOEXEC)) &&
      // libuv sets non-blocking and close-on-exec with ioctl; any other ioctl
      // (a terminal probe, TIOCSTI) traps.
      allow_if(ctx, "ioctl", error, SCMP_A1_64(SCMP_CMP_EQ, FIONBIO)) &&
      allow_if(ctx, "ioctl", error, SCMP_A1_64(SCMP_CMP_EQ, FIOCLEX)) &&
      allow_if(ctx, "ioctl", error, SCMP_A1_64(SCMP_CMP_EQ, FIONCLEX)) &&
      // Sockets the supervisor passed in (handed-off connections, the channel,
      // the store): used, never created.
      allow(ctx, {"recvmsg", "sendmsg", "recvfrom", "sendto", "recvmmsg", "sendmmsg", "shutdown", "getpeername",
                  "getsockname"},
            error) &&
      // Options: only what Node's socket API sets (setNoDelay, setKeepAlive)
      // and reads. Never SO_LINGER: a handed-off socket is shared with the
      // supervisor, whose close() would then block for the linger time.
      allow_if(ctx, "getsockopt", error, SCMP_A1_32(SCMP_CMP_EQ, SOL_SOCKET)) &&
      allow_option(ctx, "getsockopt", IPPROTO_TCP, {TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_INFO},
                   error) &&
      allow_option(ctx, "setsockopt", SOL_SOCKET, {SO_KEEPALIVE}, error) &&
      allow_option(ctx, "setsockopt", IPPROTO_TCP, {TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT}, error) &&
      // Facts about itself, and the kernel's random numbers.
      allow(ctx, {"getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
                  "getrusage", "uname", "getrandom", "fstat", "newfstatat", "statx"},
            error) &&
      // OpenSSL (TLS termination) mixes sysinfo() into its entropy as extra,
      // optional data; the host's uptime, load and memory are not the
      // worker's to know, so it gets EPERM and does without.
      fail_with(ctx, "sysinfo", EPERM, error) &&
      // Reading limits is fine; raising them is not.
      allow_if(ctx, "prlimit64", error, SCMP_A2_64(SCMP_CMP_EQ, 0)) &&
      // Thread names: the engine names its helpers and asserts it worked. (No
      // catch-all error rule for other prctl options: libseccomp would let it
      // override these two allows.)
      allow_if(ctx, "prctl", error, SCMP_A0_64(SCMP_CMP_EQ, PR_SET_NAME)) &&
      allow_if(ctx, "prctl", error, SCMP_A0_64(SCMP_CMP_EQ, PR_GET_NAME));
}

// Flags that would let an open write, create or truncate. The kernel's
// O_TMPFILE bit alone: the C library's __O_TMPFILE includes O_DIRECTORY,
// which made every opendir() (ICU looking for time-zone files) a violation.
constexpr uint64_t kTmpFileBit = 020000000;
static_assert((O_TMPFILE & ~O_DIRECTORY) == kTmpFileBit, "O_TMPFILE is O_DIRECTORY and one bit of its own");
constexpr uint64_t kWritingOpenFlags = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | kTmpFileBit;

bool worker_rules(scmp_filter_ctx ctx, int handlers_dir_fd, std::string& error) {
  // Files: the few read-only files of the minimal root the engine and libuv
  // read, with openat and flags that cannot write; module source with
  // openat2 (RESOLVE_BENEATH, flags out of the filter's sight), only from the
  // handlers folder's descriptor, on a read-only mount.
  bool ok = allow_if(ctx, "openat", error, SCMP_A2_64(SCMP_CMP_MASKED_EQ, kWritingOpenFlags, O_RDONLY)) &&
            allow(ctx, {"readlink", "access", "faccessat", "faccessat2", "getdents64"}, error) &&
            // connect never runs in a worker. libcurl 7.88 (Debian 12) calls it
            // on the socket fetch() hands it, which the broker already
            // connected (curl#10626); "in progress" lets it go on to check
            // SO_ERROR as for any connect. Nothing else can be connected: no
            // socket can be created here.
            fail_with(ctx, "connect", EINPROGRESS, error);
  if (ok && handlers_dir_fd >= 0) {
    ok = allow_if(ctx, "openat2", error, SCMP_A0_32(SCMP_CMP_EQ, static_cast<uint32_t>(handlers_dir_fd)));
  }
  // Sanitizer builds only (tests): the sanitizers' runtimes make raw system
  // calls of their own, the old open and stat, not the C library's openat and
  // newfstatat. UBSan reads /proc/self/cmdline when it first reports, and a
  // report symbolises from the binary; without these the worker died of
  // SIGSYS and the finding went unprinted. Same rights as above: read-only.
  if constexpr (common::kSanitized) {
    ok = ok && allow_if(ctx, "open", error, SCMP_A1_64(SCMP_CMP_MASKED_EQ, kWritingOpenFlags, O_RDONLY)) &&
         allow(ctx, {"stat", "lstat"}, error);
  }
  return ok;
}

bool store_rules(scmp_filter_ctx ctx, std::string& error) {
  // Clients arrive on the listening socket the supervisor passed (libuv
  // calls listen on it again to set its backlog).
  return allow(ctx, {"accept4", "accept", "listen"}, error) &&
         // The C++ runtime may look for files (locale, timezone): refused.
         fail_with(ctx, "openat", EACCES, error) &&
         // The sanitizers' own opens (see worker_rules), in sanitizer builds.
         (!common::kSanitized || fail_with(ctx, "open", EACCES, error));
}

}  // namespace

bool install_seccomp(Profile profile, int handlers_dir_fd, std::string& error) {
  // Anything not listed traps: SIGSYS, reported, then the process dies.
  Filter ctx(seccomp_init(SCMP_ACT_TRAP));
  if (!ctx) {
    error = "seccomp_init failed";
    return false;
  }
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1);
  bool ok = common_rules(ctx.get(), error) &&
            (profile == Profile::worker ? worker_rules(ctx.get(), handlers_dir_fd, error) : store_rules(ctx.get(), error));
  if (!ok) return false;
  if (int rc = seccomp_load(ctx.get()); rc != 0) {
    error = std::string("seccomp_load: ") + std::strerror(-rc);
    return false;
  }
  return true;
}

}  // namespace sandbox
