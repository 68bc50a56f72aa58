#pragma once
// A worker's confinement, built from its init message before the engine
// exists. Shared by portbroker-worker and the sandbox probe test program, so
// the probe exercises exactly the code every worker runs.

#include <string>

#include "common/unique_fd.h"
#include "ipc/messages.h"

namespace worker {

struct Confinement {
  bool ok = false;        // false: handler code must not run (fail closed)
  std::string fatal;      // why, when not ok
  ipc::WorkerSandbox report;  // for the supervisor's status
  // The handlers folder, for module loading (the only directory the seccomp
  // filter lets openat2 resolve from), and /proc/self/statm for the memory
  // watchdog (may be closed: the report then says the limit is missing).
  common::UniqueFd handlers_dir;
  common::UniqueFd statm;
};

Confinement confine_worker(const ipc::WorkerInit& init, int channel_fd);

}  // namespace worker
