#pragma once
// The supervisor's own check of a worker's confinement, from what the kernel
// says about the process (/proc/<pid>/status), made when the worker reports
// it is confined and before it gets any connection. The worker's report says
// more (which layers it built), but code that later takes the worker over
// could forge a report; it cannot change what the kernel shows.

#include <sys/types.h>

#include <string>

#include <nlohmann/json.hpp>

#include "ipc/messages.h"

namespace supervisor {

struct ExpectedConfinement {
  uid_t uid = 0;         // as this process sees it (a worker in a user namespace maps to our own)
  gid_t gid = 0;
  bool seccomp = true;   // false when the configuration disabled the sandbox
};

// Empty when the process matches; otherwise what does not, e.g.
// "Seccomp is 0, expected 2 (filter mode)".
std::string check_confinement(pid_t pid, const ExpectedConfinement& expected);

// The worker's report as status shows it (`worker.sandbox`).
nlohmann::json sandbox_status(const ipc::WorkerSandbox& report);

}  // namespace supervisor
