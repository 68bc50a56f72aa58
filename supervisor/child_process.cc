#include "supervisor/child_process.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

namespace supervisor {

std::string describe_exit(int64_t status, int term_signal) {
  if (term_signal != 0) {
    const char* abbrev = sigabbrev_np(term_signal);
    return std::string("killed by signal ") + (abbrev ? std::string("SIG") + abbrev : std::to_string(term_signal));
  }
  return "exited with status " + std::to_string(status);
}

ChildProcess::~ChildProcess() {
  // A child must not outlive its owner: it also dies with the supervisor
  // (PR_SET_PDEATHSIG), this covers an owner going away first.
  if (running_) uv_process_kill(process_.get(), SIGKILL);
}

int ChildProcess::spawn(uv_loop_t* loop, const std::string& executable, const std::vector<std::string>& args,
                        const std::vector<int>& inherited, const std::string& label, ExitCallback on_exit) {
  output_ = std::make_unique<ChildOutput>(loop, label);
  common::UniqueFd output_end;
  std::string error;
  if (!output_->open(output_end, error)) {
    common::log::error("spawn-failed").kv("process", label).kv("reason", error);
    return UV_EMFILE;
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(executable.c_str()));
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  std::vector<uv_stdio_container_t> stdio;
  stdio.reserve(3 + inherited.size());
  auto add = [&](uv_stdio_flags flags, int fd) {
    uv_stdio_container_t slot{};
    slot.flags = flags;
    slot.data.fd = fd;
    stdio.push_back(slot);
  };
  add(UV_IGNORE, -1);
  add(UV_INHERIT_FD, output_end.get());
  add(UV_INHERIT_FD, output_end.get());
  for (int fd : inherited) add(UV_INHERIT_FD, fd);

  uv_process_options_t options{};
  options.file = executable.c_str();
  options.args = argv.data();
  options.stdio = stdio.data();
  options.stdio_count = static_cast<int>(stdio.size());
  options.flags = UV_PROCESS_DETACHED;
  options.exit_cb = [](uv_process_t* handle, int64_t status, int term_signal) {
    auto* self = static_cast<ChildProcess*>(handle->data);
    if (self == nullptr) return;
    self->running_ = false;
    if (self->on_exit_) self->on_exit_(status, term_signal);
  };
  on_exit_ = std::move(on_exit);
  int rc = process_.init_or_close(uv_spawn, loop, &options);
  if (rc != 0) return rc;
  process_->data = this;
  running_ = true;
  pid_ = process_->pid;
  return 0;
}

void ChildProcess::signal(int signum) {
  if (running_) uv_process_kill(process_.get(), signum);
}

}  // namespace supervisor
