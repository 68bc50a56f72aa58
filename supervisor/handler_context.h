#pragma once
// What a Handler needs from the folder it belongs to (the operator's, or a
// tenant's) and from the host, and nothing more: a narrow interface instead
// of the whole Broker. HandlerFolder implements it.

#include <uv.h>

#include <cstdint>
#include <string>

#include "common/unique_fd.h"
#include "policy/broker_config.h"
#include "policy/tls_settings.h"
#include "sandbox/cgroup.h"
#include "supervisor/worker_identity.h"

namespace supervisor {

class ConnectionTracker;
class LocalCa;


class HandlerContext {
 public:
  virtual ~HandlerContext() = default;

  virtual uv_loop_t* loop() = 0;
  // Host-wide settings: timeouts, worker bounds, screening defaults.
  virtual const policy::BrokerConfig& config() const = 0;
  // The folder this handler's files are in.
  virtual const std::string& handlers_dir() const = 0;
  // The tenant's name, or empty for the operator's folder.
  virtual const std::string& tenant() const = 0;
  virtual const WorkerIdentity& worker_identity() const = 0;
  // Where the folder's manifests may read keys from, and on-demand domains.
  virtual const policy::TlsSources& tls_sources() const = 0;
  // A tenant's `egress` cap on its handlers' `connect` lists, or null for
  // the operator's folder (no cap).
  virtual const std::vector<policy::EgressRule>* egress_cap() const = 0;
  virtual LocalCa& local_ca() = 0;
  // A new connection to the folder's part of the shared store.
  virtual bool connect_store(common::UniqueFd& out, std::string& error) = 0;
  virtual ConnectionTracker& tracker() = 0;
  virtual const std::string& worker_executable() const = 0;
  // The control group the folder's workers start in (a tenant's), or none.
  virtual const sandbox::CgroupPlacement& worker_cgroup() const = 0;
  // Whether the kernel's OOM killer struck the folder's group since the
  // last time this was asked (a worker killed by SIGKILL: its tenant's
  // memory limit, not a crash of its own).
  virtual bool group_out_of_memory() = 0;
  // How often the folder's group refused a process or thread so far (its
  // tenant's pids limit), 0 without a group: a worker that ends after the
  // count rose may have died of it.
  virtual uint64_t group_process_limit_hits() const = 0;
  virtual uint64_t next_connection_id() = 0;
  // At most this many connections the broker holds, all handlers together.
  virtual uint64_t connection_ceiling() const = 0;
  // The folder's own quota of concurrent connections (a tenant's), counted
  // as handlers open and close them.
  virtual bool connection_quota_full() const = 0;
  virtual void connection_opened() = 0;
  virtual void connection_closed() = 0;
  virtual void apply_firewall() = 0;
  // A handler left `starting`.
  virtual void handler_settled() = 0;
  // Something may have changed unseen: read the folder again soon.
  virtual void request_rescan() = 0;
  // A handler's imports or certificates moved: watch their folders.
  virtual void watch_subfolders() = 0;
};

}  // namespace supervisor
