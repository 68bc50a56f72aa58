#pragma once
// Who a tenant's workers run as, as this host answers it: the tenant's folder
// is a folder, its `user` exists (or it gets a uid of portbroker's range), and
// the uid is no one else's among the running workers. Everything here is
// checked for all tenants before anything changes: at start (the broker
// refuses to start), on reload (the configuration in force stays) and by
// `portbrokerctl check --config`, which reports the same errors.

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/tenant_config.h"
#include "supervisor/tenant/uid_allocation.h"
#include "supervisor/worker_identity.h"

namespace supervisor::tenant {

// `uids_in_use` holds the uids already taken (the operator's workers, the
// tenants that keep running) and gains the answer. Not root: every worker is
// this process's own user (`own`), as there is no other uid to become. False
// with `error` naming the tenant and the field.
bool resolve_tenant_identity(const policy::TenantConfig& tenant, const WorkerIdentity& own, UidRegistry& registry,
                             std::set<uid_t>& uids_in_use, WorkerIdentity& out, std::string& error);

// The same for each of `tenants`, in order, into `out` by name; the first
// error stops it.
bool resolve_tenant_identities(const std::vector<const policy::TenantConfig*>& tenants, const WorkerIdentity& own,
                               UidRegistry& registry, std::set<uid_t>& uids_in_use,
                               std::map<std::string, WorkerIdentity>& out, std::string& error);
// Every tenant of a config.
bool resolve_tenant_identities(const std::vector<policy::TenantConfig>& tenants, const WorkerIdentity& own,
                               UidRegistry& registry, std::set<uid_t>& uids_in_use,
                               std::map<std::string, WorkerIdentity>& out, std::string& error);

}  // namespace supervisor::tenant
