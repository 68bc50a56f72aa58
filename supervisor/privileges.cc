#include "supervisor/privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/log.h"

namespace supervisor {
namespace {

struct Kept {
  int capability;
  const char* name;
  const char* reason;
};

constexpr Kept kKept[] = {
    {CAP_NET_ADMIN, "cap_net_admin", "programs nftables"},
    {CAP_NET_BIND_SERVICE, "cap_net_bind_service", "binds ports below 1024 for handlers that appear later"},
    {CAP_SYS_ADMIN, "cap_sys_admin", "starts workers in new namespaces; they mount their minimal root"},
    {CAP_SETUID, "cap_setuid", "workers become the unprivileged worker user"},
    {CAP_SETGID, "cap_setgid", "workers become the unprivileged worker group"},
    {CAP_SETPCAP, "cap_setpcap", "workers empty their capability bounding set"},
    {CAP_KILL, "cap_kill", "signals workers running as another user"},
    {CAP_DAC_OVERRIDE, "cap_dac_override", "reaches the handlers folder and run directory whatever their modes"},
    {CAP_DAC_READ_SEARCH, "cap_dac_read_search", "reads handler files whatever their modes"},
    {CAP_CHOWN, "cap_chown", "gives each tenant its own store socket"},
};

bool read_capabilities(__user_cap_data_struct (&data)[_LINUX_CAPABILITY_U32S_3]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &header, data) == 0;
}

}  // namespace

std::vector<std::string> reduce_supervisor_privileges() {
  if (geteuid() != 0) return {};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (!read_capabilities(data)) {
    common::log::warn("privileges-not-reduced").err(errno);
    return {"all (capget failed)"};
  }
  // Only what we hold can be kept (a container may have withheld some).
  uint64_t held = uint64_t{data[0].permitted} | uint64_t{data[1].permitted} << 32;
  uint64_t keep = 0;
  for (const auto& kept : kKept) keep |= uint64_t{1} << kept.capability;
  keep &= held;
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if ((keep & (uint64_t{1} << cap)) == 0) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  data[0] = {};
  data[1] = {};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(keep);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(keep >> 32);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capset, &header, data) != 0) {
    common::log::warn("privileges-not-reduced").err(errno);
    return {"all (capset failed)"};
  }
  std::vector<std::string> kept;
  std::string listed;
  for (const auto& entry : kKept) {
    if ((keep & (uint64_t{1} << entry.capability)) == 0) continue;
    kept.push_back(entry.name);
    listed += (listed.empty() ? "" : ",") + std::string(entry.name);
  }
  common::log::info("privileges-reduced").kv("capabilities_kept", listed);
  return kept;
}

bool holds_capability(int capability) {
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (!read_capabilities(data)) return false;
  return (data[CAP_TO_INDEX(capability)].effective & CAP_TO_MASK(capability)) != 0;
}

}  // namespace supervisor
