#pragma once
// A helper process the supervisor starts (a worker or the store). Started with
// clone3 into namespaces of its own (mount, network, PID, IPC, UTS; a user
// namespace too when the supervisor is not root), in a session of its own, with
// an explicit environment, stdin on /dev/null, stdout and stderr on a pipe the
// supervisor forwards line by line (ChildOutput), and exactly the listed fds
// as 3, 4, ... Its exit is watched through a pidfd, and signals go through the
// pidfd too, so a recycled pid can never be hit.

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/cgroup.h"

#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "supervisor/child_output.h"

namespace supervisor {

// "exited with status 3", "killed by signal SIGSEGV"
std::string describe_exit(int64_t status, int term_signal);

struct SpawnOptions {
  std::string executable;
  std::vector<std::string> args;
  std::vector<int> inherited;  // become fds 3, 4, ...
  std::string label;           // names the child's lines if it floods its output
  bool namespaces = true;      // ask for mount, network, PID, IPC and UTS namespaces
  bool default_slice = false;  // back to the kernel's default time slice (latency_slice.h)
  // The control group the child starts in (a tenant's), placed before exec.
  sandbox::CgroupPlacement cgroup;
};

class ChildProcess {
 public:
  using ExitCallback = std::function<void(int64_t status, int term_signal)>;

  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Returns 0, or a negative errno (the executable could not be started).
  int spawn(uv_loop_t* loop, const SpawnOptions& options, ExitCallback on_exit);
  bool running() const { return running_; }
  pid_t pid() const { return pid_; }
  // The namespaces the child actually got ("user", "mnt", "net", "pid", "ipc", "uts").
  const std::vector<std::string>& namespaces() const { return namespaces_; }
  void signal(int signum);

 private:
  void on_exit();

  common::UniqueFd pidfd_;
  common::UvHandle<uv_poll_t> watch_;
  std::unique_ptr<ChildOutput> output_;
  ExitCallback on_exit_;
  bool running_ = false;
  pid_t pid_ = 0;
  std::vector<std::string> namespaces_;
};

}  // namespace supervisor
