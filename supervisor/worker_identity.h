#pragma once
// Who a worker runs as and what its init message says, shared by the broker
// (which starts workers for handlers) and `portbrokerctl check` (which starts
// one in the same sandbox to compile a handler without running it).

#include <sys/types.h>

#include <string>

#include "ipc/messages.h"
#include "policy/broker_config.h"
#include "supervisor/handler_scan.h"

namespace supervisor {

struct WorkerIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
};

// As root: the configured worker user (or `nobody`, with a warning, when the
// default `portbroker` does not exist); never root. Not root: this process's
// own user. False with `error` when the configured user cannot be used.
bool resolve_worker_identity(const policy::BrokerConfig::Worker& settings, WorkerIdentity& out, std::string& error);

// Whether the worker for `file` gets fetch()'s HTTP client: only when its
// manifest lists somewhere to connect (worker/curl_library.h says why).
bool wants_http_client(const HandlerFile& file);

// The init message for a worker serving `file` of `handlers_dir` under `config`.
ipc::WorkerInit make_worker_init(const policy::BrokerConfig& config, const std::string& handlers_dir,
                                 const HandlerFile& file, const WorkerIdentity& identity, const std::string& tls_json,
                                 const std::string& tenant = "");

}  // namespace supervisor
