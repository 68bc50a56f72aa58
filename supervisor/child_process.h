#pragma once
// A helper process the supervisor starts (a worker or the store): spawned
// through libuv with stdin on /dev/null, stdout and stderr on a pipe the
// supervisor forwards to its own stderr line by line (ChildOutput), and the
// given fds inherited as 3, 4, ... Children get their own session so a
// terminal's Ctrl-C reaches only the supervisor, which then stops them in
// order.

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <string>
#include <vector>

#include <memory>

#include "common/uv_handle.h"
#include "supervisor/child_output.h"

namespace supervisor {

// "exited with status 3", "killed by signal SIGSEGV"
std::string describe_exit(int64_t status, int term_signal);

class ChildProcess {
 public:
  using ExitCallback = std::function<void(int64_t status, int term_signal)>;

  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Returns libuv's error (0 on success). `inherited` become fds 3, 4, ...;
  // `label` names the child's lines if it floods its output.
  int spawn(uv_loop_t* loop, const std::string& executable, const std::vector<std::string>& args,
            const std::vector<int>& inherited, const std::string& label, ExitCallback on_exit);
  bool running() const { return running_; }
  pid_t pid() const { return pid_; }
  void signal(int signum);

 private:
  common::UvHandle<uv_process_t> process_;
  std::unique_ptr<ChildOutput> output_;
  ExitCallback on_exit_;
  bool running_ = false;
  pid_t pid_ = 0;
};

}  // namespace supervisor
