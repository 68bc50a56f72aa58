#include "supervisor/child_process.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "common/log.h"
#include "common/process.h"
#include "common/sanitizers.h"
#include "supervisor/latency_slice.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace supervisor {
namespace {

constexpr uint64_t kAllNamespaces = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;

// The environment children get: nothing of the supervisor's but these.
constexpr const char* kPassedEnvironment[] = {common::kSupervisorPidVariable, "PORTBROKER_GC_STRESS",
                                              "PORTBROKER_PREBUILT_STENCILS", "TZ"};

std::vector<std::string> namespace_names(uint64_t flags) {
  std::vector<std::string> names;
  if (flags & CLONE_NEWUSER) names.push_back("user");
  if (flags & CLONE_NEWNS) names.push_back("mnt");
  if (flags & CLONE_NEWNET) names.push_back("net");
  if (flags & CLONE_NEWPID) names.push_back("pid");
  if (flags & CLONE_NEWIPC) names.push_back("ipc");
  if (flags & CLONE_NEWUTS) names.push_back("uts");
  return names;
}

// Sanitizer builds only (tests): the sanitizers' options reach the children,
// so a finding in a worker or the store fails the test as one in the
// supervisor does. Leak checking is switched off for them: they run under
// seccomp, and LeakSanitizer's exit-time check stops the process's threads
// with ptrace from a cloned task, which the filter forbids (the child would
// die of SIGSYS instead of exiting). The supervisor and the tools keep it
// (LSAN_OPTIONS, which could turn it back on, is not passed).
void add_sanitizer_environment(std::vector<std::string>& environment) {
  if (const char* value = getenv("UBSAN_OPTIONS")) environment.push_back(std::string("UBSAN_OPTIONS=") + value);
  if constexpr (common::kAddressSanitizer) {
    const char* value = getenv("ASAN_OPTIONS");
    std::string options = value != nullptr && *value != '\0' ? std::string(value) + ":" : std::string();
    // color=never: checking whether stderr is a terminal is an ioctl the
    // filter forbids (stderr is a pipe to the supervisor anyway).
    environment.push_back("ASAN_OPTIONS=" + options + "detect_leaks=0:color=never");
  }
}

// Descriptors a child can inherit (stdin, stdout, stderr included).
constexpr int kMaxInheritedFds = 16;

// The child's failure before exec: its errno goes to the parent.
[[noreturn]] void child_failed(int report_fd) {
  int err = errno;
  ssize_t ignored = write(report_fd, &err, sizeof err);
  (void)ignored;
  _exit(127);
}

// In a new user namespace the child must map itself before exec (after exec,
// unmapped, it would have no capabilities left to do it): "root" inside,
// the supervisor's own user outside.
bool write_id_maps(const char* uid_map, const char* gid_map) {
  auto put = [](const char* path, const char* text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, text, strlen(text)) == static_cast<ssize_t>(strlen(text));
    close(fd);
    return ok;
  };
  return put("/proc/self/setgroups", "deny") && put("/proc/self/gid_map", gid_map) &&
         put("/proc/self/uid_map", uid_map);
}

// Runs in the child between clone and exec: only async-signal-safe calls.
// The clone reset every signal handler (CLONE_CLEAR_SIGHAND), so no
// supervisor handler can run here.
[[noreturn]] void exec_child(const char* executable, char* const* argv, char* const* envp, const int* sources,
                             int count, int error_fd, const char* uid_map, const char* gid_map,
                             const DefaultSlice* default_slice, const char* const* cgroup_procs) {
  if (uid_map != nullptr && !write_id_maps(uid_map, gid_map)) child_failed(error_fd);
  // cgroup v1: into the tenant's groups before exec, so everything the
  // worker ever allocates counts ("0" is the writing process).
  for (const char* const* procs = cgroup_procs; procs != nullptr && *procs != nullptr; ++procs) {
    int fd = open(*procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) child_failed(error_fd);
    close(fd);
  }
  if (default_slice != nullptr) default_slice->apply();
  setsid();
  // Every source first moves above the target range, so none is clobbered,
  // then lands on its target (dup2 clears close-on-exec there).
  int moved[kMaxInheritedFds];
  for (int i = 0; i < count; ++i) {
    moved[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, count + kMaxInheritedFds);
    if (moved[i] < 0) child_failed(error_fd);
  }
  int report = fcntl(error_fd, F_DUPFD_CLOEXEC, count + 2 * kMaxInheritedFds);
  if (report < 0) child_failed(error_fd);
  for (int i = 0; i < count; ++i) {
    if (dup2(moved[i], i) != i) child_failed(report);
  }
  // Nothing else crosses into the child.
  syscall(SYS_close_range, count, report - 1, 0);
  syscall(SYS_close_range, report + 1, ~0U, 0);
  // Ignored signals would stay ignored across exec.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    sigaction(sig, &defaults, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(executable, argv, envp);
  child_failed(report);
}

// Errors that mean "not allowed here" (no privilege, no user namespaces,
// too many namespaces): the next, smaller set of namespaces is tried. Any
// other error fails the spawn; the caller retries later.
bool namespaces_refused(int err) { return err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS; }

}  // namespace

std::string describe_exit(int64_t status, int term_signal) {
  if (term_signal != 0) {
    const char* abbrev = sigabbrev_np(term_signal);
    return std::string("killed by signal ") + (abbrev ? std::string("SIG") + abbrev : std::to_string(term_signal));
  }
  return "exited with status " + std::to_string(status);
}

ChildProcess::~ChildProcess() {
  // A child must not outlive its owner (it also dies with the supervisor,
  // PR_SET_PDEATHSIG); reap it so no zombie stays behind.
  if (running_) {
    signal(SIGKILL);
    siginfo_t info{};
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED);
  }
}

int ChildProcess::spawn(uv_loop_t* loop, const SpawnOptions& options, ExitCallback on_exit) {
  output_ = std::make_unique<ChildOutput>(loop, options.label);
  common::UniqueFd output_end;
  std::string error;
  if (!output_->open(output_end, error)) {
    common::log::error("spawn-failed").kv("process", options.label).kv("reason", error);
    return -EMFILE;
  }
  common::UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int pipe_fds[2];
  if (!devnull || pipe2(pipe_fds, O_CLOEXEC) != 0) return -errno;
  common::UniqueFd error_read(pipe_fds[0]);
  common::UniqueFd error_write(pipe_fds[1]);

  std::vector<int> sources = {devnull.get(), output_end.get(), output_end.get()};
  sources.insert(sources.end(), options.inherited.begin(), options.inherited.end());
  if (sources.size() > static_cast<size_t>(kMaxInheritedFds)) return -EMFILE;
  std::vector<std::string> args = {options.executable};
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment;
  for (const char* name : kPassedEnvironment) {
    if (const char* value = getenv(name)) environment.push_back(std::string(name) + "=" + value);
  }
  if constexpr (common::kSanitized) add_sanitizer_environment(environment);
  // The last entry names the namespaces; it is set per clone attempt below.
  environment.emplace_back();

  // The namespaces we can get: all of them as root; an unprivileged user
  // namespace around them otherwise; or none (then the sandbox says so).
  std::vector<uint64_t> attempts;
  if (options.namespaces) {
    attempts.push_back(kAllNamespaces);
    attempts.push_back(kAllNamespaces | CLONE_NEWUSER);
  }
  attempts.push_back(0);
  // Prepared before clone: the child may only make async-signal-safe calls.
  // The kernel checks the maps against the effective ids.
  std::string uid_map = "0 " + std::to_string(geteuid()) + " 1";
  std::string gid_map = "0 " + std::to_string(getegid()) + " 1";
  std::optional<DefaultSlice> default_slice;
  if (options.default_slice) default_slice.emplace();
  // A tenant's control group: v2 by CLONE_INTO_CGROUP (the child is born
  // inside), v1 by the child writing itself in.
  common::UniqueFd cgroup_dir;
  if (options.cgroup.version == sandbox::CgroupVersion::v2) {
    cgroup_dir.reset(open(options.cgroup.v2_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup_dir) return -errno;
  }
  std::vector<const char*> cgroup_procs;
  for (const auto& path : options.cgroup.v1_procs) cgroup_procs.push_back(path.c_str());
  cgroup_procs.push_back(nullptr);
  int pidfd = -1;
  pid_t pid = -1;
  int clone_errno = 0;
  for (uint64_t flags : attempts) {
    std::string names;
    for (const auto& name : namespace_names(flags)) names += (names.empty() ? "" : ",") + name;
    environment.back() = std::string(common::kNamespacesVariable) + "=" + names;
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    clone_args request{};
    request.flags = CLONE_PIDFD | CLONE_CLEAR_SIGHAND | flags;
    if (cgroup_dir) {
      request.flags |= CLONE_INTO_CGROUP;
      request.cgroup = static_cast<uint64_t>(cgroup_dir.get());
    }
    request.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    request.exit_signal = SIGCHLD;
    pid = static_cast<pid_t>(syscall(SYS_clone3, &request, sizeof request));
    if (pid == 0) {
      bool user_namespace = (flags & CLONE_NEWUSER) != 0;
      exec_child(options.executable.c_str(), argv.data(), envp.data(), sources.data(),
                 static_cast<int>(sources.size()), error_write.get(), user_namespace ? uid_map.c_str() : nullptr,
                 user_namespace ? gid_map.c_str() : nullptr, default_slice ? &*default_slice : nullptr,
                 cgroup_procs.data());
    }
    if (pid > 0) {
      namespaces_ = namespace_names(flags);
      break;
    }
    clone_errno = errno;
    if (!namespaces_refused(clone_errno)) break;
  }
  if (pid < 0) return -clone_errno;
  pidfd_.reset(pidfd);
  pid_ = pid;
  running_ = true;
  output_end.reset();
  error_write.reset();
  // The child reports a failed exec through the pipe; a successful exec
  // closes it (close-on-exec), which reads as end of file.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(error_read.get(), &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof exec_errno) {
    siginfo_t info{};
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED);
    running_ = false;
    pidfd_.reset();
    return -exec_errno;
  }
  on_exit_ = std::move(on_exit);
  if (int rc = watch_.init(uv_poll_init, loop, pidfd_.get()); rc != 0) {
    common::log::error("spawn-failed").kv("process", options.label).kv("reason", uv_strerror(rc));
    return rc;
  }
  watch_->data = this;
  uv_poll_start(watch_.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
    if (handle->data) static_cast<ChildProcess*>(handle->data)->on_exit();
  });
  return 0;
}

void ChildProcess::on_exit() {
  siginfo_t info{};
  if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG) != 0 ||
      info.si_pid == 0) {
    return;  // not exited yet (spurious wakeup)
  }
  running_ = false;
  watch_.reset();
  pidfd_.reset();
  int64_t status = info.si_code == CLD_EXITED ? info.si_status : 0;
  int term_signal = info.si_code == CLD_EXITED ? 0 : info.si_status;
  if (on_exit_) on_exit_(status, term_signal);
}

void ChildProcess::signal(int signum) {
  if (running_ && pidfd_) syscall(SYS_pidfd_send_signal, pidfd_.get(), signum, nullptr, 0);
}

}  // namespace supervisor
