#include "worker/confinement.h"

#include <fcntl.h>

#include "common/log.h"
#include "common/process.h"
#include "sandbox/credentials.h"
#include "sandbox/sandbox.h"

namespace worker {
namespace {

sandbox::Config sandbox_config(const ipc::WorkerInit& init, int channel_fd) {
  sandbox::Config config;
  config.profile = sandbox::Profile::worker;
  config.uid = init.uid;
  config.gid = init.gid;
  config.outer_uid = init.outer_uid;
  config.outer_gid = init.outer_gid;
  config.namespaces = sandbox::namespaces_from_environment();
  config.handlers_dir = init.handlers_dir;
  config.limits = {init.open_files, init.processes, init.address_space_bytes};
  config.channel_fd = channel_fd;
  return config;
}

// worker.sandbox false (debugging): no namespaces, limits or seccomp, but
// handler code still never runs as root or with capabilities.
Confinement unconfined(const ipc::WorkerInit& init) {
  Confinement result;
  common::log::warn("sandbox-disabled").kv("reason", "worker.sandbox is false in the configuration");
  std::string error;
  sandbox::Identity identity{init.uid, init.gid};
  if (!sandbox::drop_privileges(geteuid() == 0 ? &identity : nullptr, error)) {
    result.fatal = "cannot drop privileges: " + error;
    return result;
  }
  result.handlers_dir.reset(open(init.handlers_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!result.handlers_dir) {
    result.fatal = "cannot open the handlers folder " + init.handlers_dir + ": " + common::errno_text(errno);
    return result;
  }
  result.statm.reset(open("/proc/self/statm", O_RDONLY | O_CLOEXEC));
  result.ok = true;
  result.report = {{"confined", false},
                   {"reason", "disabled in the configuration"},
                   {"uid", static_cast<int64_t>(getuid())},
                   {"gid", static_cast<int64_t>(getgid())}};
  return result;
}

}  // namespace

Confinement confine_worker(const ipc::WorkerInit& init, int channel_fd) {
  if (!init.sandbox) return unconfined(init);
  Confinement result;
  auto config = sandbox_config(init, channel_fd);
  auto report = sandbox::confine(config);
  result.report = report.to_json(config);
  if (!report.confined) {
    common::log::error("sandbox-failed").kv("reason", report.fatal);
    result.fatal = "sandbox: " + report.fatal;
    return result;
  }
  result.handlers_dir = std::move(report.handlers_dir);
  result.statm = std::move(report.statm);
  result.ok = true;
  return result;
}

}  // namespace worker
