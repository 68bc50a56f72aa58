#include "worker/confinement.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "common/process.h"
#include "sandbox/credentials.h"
#include "sandbox/sandbox.h"
#include "worker/time_zone.h"

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

// What the supervisor's status shows; the supervisor checks it against /proc.
ipc::WorkerSandbox sandbox_report(const sandbox::Report& report, const sandbox::Config& config) {
  bool user_namespace = std::find(config.namespaces.begin(), config.namespaces.end(), "user") != config.namespaces.end();
  ipc::WorkerSandbox out;
  out.confined = report.confined;
  out.reason = report.fatal;
  // As the host sees them (inside a user namespace the process is "root").
  out.uid = user_namespace ? config.outer_uid : getuid();
  out.gid = user_namespace ? config.outer_gid : getgid();
  out.namespaces = config.namespaces;
  out.minimal_root = report.minimal_root;
  out.seccomp = report.seccomp;
  out.no_new_privs = report.no_new_privs;
  // Checked (holds_no_capabilities) before the report could say so.
  out.no_capabilities = report.confined;
  out.open_files = config.limits.open_files;
  out.processes = config.limits.processes;
  out.address_space_bytes = config.limits.address_space_bytes;
  // Bounded as the channel requires; a longer list says what was cut.
  auto bounded = [](std::vector<std::string> list) {
    for (auto& item : list) {
      if (item.size() > ipc::kMaxReportTextBytes) item.resize(ipc::kMaxReportTextBytes);
    }
    if (list.size() > ipc::kMaxReportEntries) {
      list.resize(ipc::kMaxReportEntries - 1);
      list.push_back("(more not reported)");
    }
    return list;
  };
  out.missing = bounded(report.missing);
  out.notes = bounded(report.notes);
  if (out.reason.size() > ipc::kMaxReportTextBytes) out.reason.resize(ipc::kMaxReportTextBytes);
  return out;
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
  result.report.confined = false;
  result.report.reason = "disabled in the configuration";
  result.report.uid = getuid();
  result.report.gid = getgid();
  return result;
}

}  // namespace

Confinement confine_worker(const ipc::WorkerInit& init, int channel_fd) {
  // While the host's files are still in view.
  adopt_host_time_zone();
  if (!init.sandbox) return unconfined(init);
  Confinement result;
  auto config = sandbox_config(init, channel_fd);
  auto report = sandbox::confine(config);
  result.report = sandbox_report(report, config);
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
