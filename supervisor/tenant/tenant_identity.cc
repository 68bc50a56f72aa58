#include "supervisor/tenant/tenant_identity.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace supervisor::tenant {

bool resolve_tenant_identity(const policy::TenantConfig& tenant, const WorkerIdentity& own, UidRegistry& registry,
                             std::set<uid_t>& uids_in_use, WorkerIdentity& out, std::string& error) {
  const std::string where = "tenant " + tenant.name + ": /tenants/" + tenant.name;
  struct stat info {};
  if (stat(tenant.handlers_dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    error = where + "/handlers: " + tenant.handlers_dir + " is not a folder";
    return false;
  }
  if (geteuid() != 0) {
    out = own;
    return true;
  }
  if (tenant.user) {
    const passwd* entry = getpwnam(tenant.user->c_str());
    if (entry == nullptr) {
      error = where + "/user: no user named '" + *tenant.user + "'";
      return false;
    }
    out = {entry->pw_uid, entry->pw_gid, entry->pw_name};
  } else {
    std::string allocation_error;
    uid_t uid = registry.uid_for(tenant.name, allocation_error);
    if (uid == 0) {
      error = "tenant " + tenant.name + ": " + allocation_error;
      return false;
    }
    out = {uid, static_cast<gid_t>(uid), "portbroker-" + tenant.name};
  }
  if (out.uid == 0) {
    error = where + "/user: '" + out.user + "' is root";
    return false;
  }
  // A shared uid would share RLIMIT_NPROC, /proc access and signals.
  if (!uids_in_use.insert(out.uid).second) {
    error = where + "/user: uid collision: uid " + std::to_string(out.uid) +
            " is already another tenant's or the operator's workers'";
    return false;
  }
  return true;
}

bool resolve_tenant_identities(const std::vector<const policy::TenantConfig*>& tenants, const WorkerIdentity& own,
                               UidRegistry& registry, std::set<uid_t>& uids_in_use,
                               std::map<std::string, WorkerIdentity>& out, std::string& error) {
  for (const policy::TenantConfig* tenant : tenants) {
    if (!resolve_tenant_identity(*tenant, own, registry, uids_in_use, out[tenant->name], error)) return false;
  }
  return true;
}

bool resolve_tenant_identities(const std::vector<policy::TenantConfig>& tenants, const WorkerIdentity& own,
                               UidRegistry& registry, std::set<uid_t>& uids_in_use,
                               std::map<std::string, WorkerIdentity>& out, std::string& error) {
  std::vector<const policy::TenantConfig*> all;
  for (const auto& tenant : tenants) all.push_back(&tenant);
  return resolve_tenant_identities(all, own, registry, uids_in_use, out, error);
}

}  // namespace supervisor::tenant
