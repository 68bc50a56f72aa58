#pragma once
// Dedicated uids for tenants that name no user, in the manner of systemd's
// DynamicUser: from a range reserved for portbroker, derived from the
// tenant's name so it is the same across restarts, never one that belongs
// to an existing account (in the user or the group database), and never
// another tenant's. The allocations are kept in <state_dir>/tenant-uids.json
// (root's, 0600), so a uid stays with its tenant even when an account or
// another tenant later takes the place it was probed past.
//
// The range 196608-262143 (0x30000-0x3FFFF) lies in what systemd documents
// as unused (65536-524287): clear of system users, regular users, systemd's
// own DynamicUser range (61184-65519), nobody, and container uid ranges.

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace supervisor::tenant {

inline constexpr uid_t kFirstTenantUid = 196608;
inline constexpr uid_t kLastTenantUid = 262143;

// The uid for `name`: a hash of the name picks the start, the first uid
// not `taken` from there on (wrapping around) is the answer; 0 when every
// uid of the range is taken. Pure: `taken` says what the system and the
// other tenants hold.
uid_t pick_uid(std::string_view name, const std::function<bool(uid_t)>& taken);

// The allocations on disk.
class UidRegistry {
 public:
  explicit UidRegistry(std::string path) : path_(std::move(path)) {}
  // False (with `error`) when the file exists but cannot be read or parsed.
  bool load(std::string& error);
  // Written whole and renamed into place.
  bool save(std::string& error) const;
  const std::map<std::string, uid_t>& allocations() const { return by_name_; }
  // The tenant's uid: the one recorded, else a new one (recorded, not yet
  // saved). 0 with `error` when the recorded uid now belongs to an account,
  // or the range is full.
  uid_t uid_for(const std::string& tenant, std::string& error);

 private:
  std::string path_;
  std::map<std::string, uid_t> by_name_;
};

// Whether `uid` (or the same number as a gid) belongs to an account of the
// system's user or group database.
bool system_account_holds(uid_t uid, std::string* account = nullptr);

}  // namespace supervisor::tenant
