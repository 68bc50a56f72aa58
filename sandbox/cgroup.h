#pragma once
// Control groups for tenants: a group per tenant holding all its workers,
// with a memory limit and a process (pids) limit the kernel enforces.
//
// - cgroup v2 (production Debian 12): the broker's own group, delegated by
//   systemd (Delegate=yes), becomes an inner node: the broker's processes
//   move to its "supervisor" leaf, the memory and pids controllers are
//   enabled for children, and each tenant gets "tenant-<name>" beside it
//   (memory.max, pids.max). Workers start inside with CLONE_INTO_CGROUP.
// - cgroup v1 (hosts with the legacy hierarchies, this build machine):
//   "portbroker/tenant-<name>" under the broker's own group in the memory
//   and pids hierarchies (memory.limit_in_bytes, pids.max); a worker's
//   process writes itself into both before exec.
// - Neither writable: no groups; each worker's memory watchdog still
//   applies, and status says why there is no tenant limit.
//
// Paths come from the caller, so tests run against a fake hierarchy.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sandbox {

enum class CgroupVersion { none, v1, v2 };

struct CgroupLimits {
  uint64_t memory_bytes = 0;
  uint64_t pids = 0;
};

// Where a worker goes: a v2 directory (opened for CLONE_INTO_CGROUP), or
// v1 cgroup.procs files the child writes itself into.
struct CgroupPlacement {
  CgroupVersion version = CgroupVersion::none;
  std::string v2_dir;
  std::vector<std::string> v1_procs;
  // Where the kernel counts the group's OOM kills (memory.events in v2,
  // memory.oom_control in v1: an "oom_kill N" line).
  std::string oom_counter;
  // Where it counts the forks and clones its pids limit refused
  // (pids.events in v2 and v1: a "max N" line).
  std::string pids_counter;
  bool empty() const { return version == CgroupVersion::none; }
};

// The "oom_kill N" count of a group's counter file, 0 when there is none.
uint64_t oom_kills(const CgroupPlacement& placement);
// The "max N" count of its pids counter: how often the group's process
// limit refused a new process or thread; 0 when there is none.
uint64_t process_limit_hits(const CgroupPlacement& placement);

class CgroupTree {
 public:
  // Finds what this process may use: `fs_root` is where cgroupfs is
  // mounted (/sys/fs/cgroup), `self_cgroup` the text of /proc/self/cgroup.
  static CgroupTree detect(const std::string& fs_root, const std::string& self_cgroup);
  // The same from the running system.
  static CgroupTree detect_system();

  CgroupVersion version() const { return version_; }
  // Why there are no tenant groups, when version() is none.
  const std::string& reason() const { return reason_; }
  std::string describe() const;

  // v2 only, once, before any child starts: the broker's processes move to
  // the "supervisor" leaf and the controllers are enabled for children.
  bool prepare(std::string& error);
  // Creates (or updates the limits of) the group of `name`.
  bool ensure_group(const std::string& name, const CgroupLimits& limits, CgroupPlacement& out, std::string& error);
  // Removes the group once it is empty; false if processes remain.
  bool remove_group(const std::string& name);

 private:
  CgroupVersion version_ = CgroupVersion::none;
  std::string reason_;
  std::string v2_base_;       // the broker's own (delegated) group
  std::string v1_memory_base_;
  std::string v1_pids_base_;
  bool prepared_ = false;
};

// The group name for a tenant ("tenant-alice").
std::string tenant_group_name(const std::string& tenant);

}  // namespace sandbox
