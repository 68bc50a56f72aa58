#pragma once
// A worker's confinement, built from its init message before the engine
// exists. Shared by portbroker-worker and the sandbox probe test program, so
// the probe exercises exactly the code every worker runs.

#include <string>

#include <nlohmann/json.hpp>

#include "ipc/messages.h"

namespace worker {

struct Confinement {
  bool ok = false;            // false: handler code must not run (fail closed)
  std::string fatal;          // why, when not ok
  nlohmann::json report;      // for the supervisor's status
  std::string modules_root;   // where the handlers folder is, seen from inside
};

Confinement confine_worker(const ipc::WorkerInit& init, int channel_fd);

}  // namespace worker
