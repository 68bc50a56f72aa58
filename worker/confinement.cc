#include "worker/confinement.h"

#include <sstream>

#include "common/log.h"
#include "sandbox/mount_root.h"
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
  std::stringstream names(init.namespaces);
  for (std::string name; std::getline(names, name, ',');) {
    if (!name.empty()) config.namespaces.push_back(name);
  }
  config.handlers_dir = init.handlers_dir;
  config.limits = {init.open_files, init.processes, init.address_space_bytes};
  config.channel_fd = channel_fd;
  return config;
}

}  // namespace

Confinement confine_worker(const ipc::WorkerInit& init, int channel_fd) {
  Confinement result;
  result.modules_root = init.handlers_dir;
  if (!init.sandbox) {
    common::log::warn("sandbox-disabled").kv("reason", "worker.sandbox is false in the configuration");
    result.ok = true;
    result.report = {{"confined", false}, {"reason", "disabled in the configuration"}};
    return result;
  }
  auto config = sandbox_config(init, channel_fd);
  auto report = sandbox::confine(config);
  result.report = report.to_json(config);
  if (!report.confined) {
    common::log::error("sandbox-failed").kv("reason", report.fatal);
    result.fatal = "sandbox: " + report.fatal;
    return result;
  }
  if (report.minimal_root) result.modules_root = sandbox::kHandlersMountPoint;
  result.ok = true;
  return result;
}

}  // namespace worker
