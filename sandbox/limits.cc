#include "sandbox/limits.h"

#include <sys/resource.h>

#include <cerrno>

#include "common/process.h"

namespace sandbox {
namespace {

bool set_limit(int resource, uint64_t value, const char* name, std::string& error) {
  rlimit limit{value, value};
  rlimit current{};
  // Never above what we have: lowering needs no privilege, raising would.
  if (getrlimit(resource, &current) == 0 && current.rlim_max != RLIM_INFINITY && current.rlim_max < value) {
    limit.rlim_cur = limit.rlim_max = current.rlim_max;
  }
  if (setrlimit(resource, &limit) != 0) {
    error = std::string("setrlimit(") + name + "): " + common::errno_text(errno);
    return false;
  }
  return true;
}

}  // namespace

bool apply_limits(const Limits& limits, std::string& error) {
  return set_limit(RLIMIT_NOFILE, limits.open_files, "RLIMIT_NOFILE", error) &&
         set_limit(RLIMIT_NPROC, limits.processes, "RLIMIT_NPROC", error) &&
         (!kAddressSpaceLimited || set_limit(RLIMIT_AS, limits.address_space_bytes, "RLIMIT_AS", error)) &&
         set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE", error) && set_limit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE", error);
}

}  // namespace sandbox
