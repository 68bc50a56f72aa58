#include "supervisor/tenant/uid_allocation.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/bounded_file.h"
#include "common/keyed_hash.h"

namespace supervisor::tenant {
namespace {

// A fixed key: the start must not change between runs or versions.
constexpr common::SipKey kNameKey = {'p', 'o', 'r', 't', 'b', 'r', 'o', 'k', 'e', 'r', '-', 'u', 'i', 'd', 's', '1'};
constexpr size_t kMaxRegistryBytes = 1 << 20;

}  // namespace

uid_t pick_uid(std::string_view name, const std::function<bool(uid_t)>& taken) {
  const uint64_t span = uint64_t{kLastTenantUid} - kFirstTenantUid + 1;
  uint64_t start = common::siphash24(kNameKey, name.data(), name.size()) % span;
  for (uint64_t step = 0; step < span; ++step) {
    uid_t candidate = static_cast<uid_t>(kFirstTenantUid + (start + step) % span);
    if (!taken(candidate)) return candidate;
  }
  return 0;
}

bool system_account_holds(uid_t uid, std::string* account) {
  if (const passwd* user = getpwuid(uid)) {
    if (account) *account = std::string("user ") + user->pw_name;
    return true;
  }
  if (const group* grp = getgrgid(static_cast<gid_t>(uid))) {
    if (account) *account = std::string("group ") + grp->gr_name;
    return true;
  }
  return false;
}

bool UidRegistry::load(std::string& error) {
  if (access(path_.c_str(), F_OK) != 0) return true;  // nothing allocated yet
  std::string text;
  if (!common::read_regular_file(path_, kMaxRegistryBytes, text, error)) return false;
  auto document = nlohmann::json::parse(text, nullptr, false);
  if (!document.is_object()) {
    error = path_ + ": not a JSON object of tenant names and uids";
    return false;
  }
  by_name_.clear();
  for (const auto& [name, uid] : document.items()) {
    if (!uid.is_number_unsigned() || uid.get<uint64_t>() < kFirstTenantUid || uid.get<uint64_t>() > kLastTenantUid) {
      error = path_ + ": " + name + " has no uid of portbroker's range";
      return false;
    }
    by_name_[name] = static_cast<uid_t>(uid.get<uint64_t>());
  }
  return true;
}

bool UidRegistry::save(std::string& error) const {
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [name, uid] : by_name_) document[name] = uid;
  std::string text = document.dump(2) + "\n";
  std::string temporary = path_ + ".new";
  unlink(temporary.c_str());
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write " + temporary + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = fsync(fd) == 0 && ok;
  close(fd);
  if (!ok || rename(temporary.c_str(), path_.c_str()) != 0) {
    error = "cannot write " + path_ + ": " + std::strerror(errno);
    unlink(temporary.c_str());
    return false;
  }
  return true;
}

uid_t UidRegistry::uid_for(const std::string& tenant, std::string& error) {
  if (auto found = by_name_.find(tenant); found != by_name_.end()) {
    std::string account;
    if (system_account_holds(found->second, &account)) {
      error = "uid collision: uid " + std::to_string(found->second) + ", allocated to tenant " + tenant +
              ", now belongs to " + account;
      return 0;
    }
    return found->second;
  }
  uid_t uid = pick_uid(tenant, [&](uid_t candidate) {
    for (const auto& [name, held] : by_name_) {
      if (held == candidate) return true;
    }
    return system_account_holds(candidate);
  });
  if (uid == 0) {
    error = "no free uid left in portbroker's range " + std::to_string(kFirstTenantUid) + "-" +
            std::to_string(kLastTenantUid);
    return 0;
  }
  by_name_[tenant] = uid;
  return uid;
}

}  // namespace supervisor::tenant
