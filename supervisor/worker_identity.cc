#include "supervisor/worker_identity.h"

#include <pwd.h>
#include <unistd.h>

#include "common/log.h"

namespace supervisor {

bool resolve_worker_identity(const policy::BrokerConfig::Worker& settings, WorkerIdentity& out, std::string& error) {
  if (geteuid() != 0) {
    // Not root: workers stay this (unprivileged) user; the sandbox still
    // takes their capabilities and adds seccomp and namespaces where it can.
    out.uid = getuid();
    out.gid = getgid();
    passwd* self = getpwuid(out.uid);
    out.user = self ? self->pw_name : std::to_string(out.uid);
    return true;
  }
  passwd* entry = getpwnam(settings.user.c_str());
  if (entry == nullptr && !settings.user_configured) {
    common::log::warn("worker-user-missing").kv("user", settings.user).kv("using", "nobody");
    entry = getpwnam("nobody");
  }
  if (entry == nullptr) {
    error = "worker user '" + settings.user + "' does not exist (worker.user in the configuration)";
    return false;
  }
  if (entry->pw_uid == 0) {
    error = "worker user '" + settings.user + "' is root; workers must run unprivileged";
    return false;
  }
  out.uid = entry->pw_uid;
  out.gid = entry->pw_gid;
  out.user = entry->pw_name;
  return true;
}

bool wants_http_client(const HandlerFile& file) {
  return file.manifest && file.manifest->connect && !file.manifest->connect->empty();
}

ipc::WorkerInit make_worker_init(const policy::BrokerConfig& config, const std::string& handlers_dir,
                                 const HandlerFile& file, const WorkerIdentity& identity, const std::string& tls_json,
                                 const std::string& tenant) {
  const auto& settings = config.worker;
  return ipc::WorkerInit{
      .handler_name = file.id.name,
      .tenant = tenant,
      .module_file = file.file,
      .handlers_dir = handlers_dir,
      .transport = std::string(policy::transport_name(file.id.transport)),
      .port = file.id.port,
      .log_level = config.log_level,
      .open_timeout_ms = config.open_timeout_ms,
      .sandbox = settings.sandbox,
      .uid = static_cast<uint32_t>(identity.uid),
      .gid = static_cast<uint32_t>(identity.gid),
      .outer_uid = static_cast<uint32_t>(getuid()),
      .outer_gid = static_cast<uint32_t>(getgid()),
      .open_files = settings.open_files,
      .processes = settings.processes,
      .address_space_bytes = settings.address_space_mb << 20,
      .heap_bytes = settings.heap_mb << 20,
      .memory_bytes = settings.memory_mb << 20,
      .cpu_limit_ms = settings.cpu_limit_ms,
      .tls_json = tls_json,
      .http_client = wants_http_client(file),
  };
}

}  // namespace supervisor
