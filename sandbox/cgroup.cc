#include "sandbox/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sandbox {
namespace {

bool write_file(const std::string& path, const std::string& text, std::string& error) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int saved = errno;
  close(fd);
  if (!ok) error = path + ": " + std::strerror(saved);
  return ok;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool make_dir(const std::string& path, std::string& error) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return true;
  error = "cannot create " + path + ": " + std::strerror(errno);
  return false;
}

// "4:memory:/a/b" lines of /proc/self/cgroup: the path for `controller`
// (v1), or for the unified hierarchy ("0::/a/b") when `controller` is empty.
std::string own_path(const std::string& self_cgroup, const std::string& controller) {
  std::istringstream lines(self_cgroup);
  for (std::string line; std::getline(lines, line);) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controller.empty() ? controllers.empty() && line.compare(0, 2, "0:") == 0 : false) return path;
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (!controller.empty() && name == controller) return path;
    }
  }
  return {};
}

bool writable_dir(const std::string& path) { return access(path.c_str(), W_OK | X_OK) == 0; }

std::string join(const std::string& root, const std::string& path) {
  return path == "/" || path.empty() ? root : root + path;
}

}  // namespace

std::string tenant_group_name(const std::string& tenant) { return "tenant-" + tenant; }

namespace {
// The value of `wanted` in a file of "key value" lines, 0 without one.
uint64_t event_count(const std::string& file, const std::string& wanted) {
  if (file.empty()) return 0;
  std::istringstream lines(read_file(file));
  for (std::string key; lines >> key;) {
    uint64_t value = 0;
    if (!(lines >> value)) break;
    if (key == wanted) return value;
  }
  return 0;
}
}  // namespace

uint64_t oom_kills(const CgroupPlacement& placement) { return event_count(placement.oom_counter, "oom_kill"); }

uint64_t process_limit_hits(const CgroupPlacement& placement) { return event_count(placement.pids_counter, "max"); }

CgroupTree CgroupTree::detect(const std::string& fs_root, const std::string& self_cgroup) {
  CgroupTree tree;
  // v2: a unified mount at the root, with memory and pids available, and
  // the broker's group writable (delegated to it).
  std::string unified = own_path(self_cgroup, "");
  std::string controllers = read_file(fs_root + "/cgroup.controllers");
  bool v2_root = !controllers.empty();
  if (v2_root) {
    std::string base = join(fs_root, unified);
    std::string available = read_file(base + "/cgroup.controllers");
    if (available.find("memory") != std::string::npos && available.find("pids") != std::string::npos &&
        writable_dir(base) && access((base + "/cgroup.subtree_control").c_str(), W_OK) == 0) {
      tree.version_ = CgroupVersion::v2;
      tree.v2_base_ = base;
      return tree;
    }
    tree.reason_ = "cgroup v2 at " + base + " is not delegated to the broker with the memory and pids controllers "
                   "(run it under systemd with Delegate=yes)";
    return tree;
  }
  // v1: the memory and pids hierarchies, each at the broker's own group.
  std::string memory = join(fs_root + "/memory", own_path(self_cgroup, "memory"));
  std::string pids = join(fs_root + "/pids", own_path(self_cgroup, "pids"));
  if (!own_path(self_cgroup, "memory").empty() && !own_path(self_cgroup, "pids").empty() && writable_dir(memory) &&
      writable_dir(pids)) {
    tree.version_ = CgroupVersion::v1;
    tree.v1_memory_base_ = memory + "/portbroker";
    tree.v1_pids_base_ = pids + "/portbroker";
    return tree;
  }
  tree.reason_ = "no writable cgroup hierarchy with the memory and pids controllers";
  return tree;
}

CgroupTree CgroupTree::detect_system() { return detect("/sys/fs/cgroup", read_file("/proc/self/cgroup")); }

std::string CgroupTree::describe() const {
  switch (version_) {
    case CgroupVersion::v2: return "cgroup v2 (" + v2_base_ + ")";
    case CgroupVersion::v1: return "cgroup v1 (" + v1_memory_base_ + ", " + v1_pids_base_ + ")";
    case CgroupVersion::none: return "none: " + reason_;
  }
  return "none";
}

bool CgroupTree::prepare(std::string& error) {
  if (version_ != CgroupVersion::v2 || prepared_) return true;
  // A v2 group with controllers enabled for its children may hold no
  // processes itself: the broker's own move to a leaf first.
  std::string leaf = v2_base_ + "/supervisor";
  if (!make_dir(leaf, error)) return false;
  std::string procs = read_file(v2_base_ + "/cgroup.procs");
  std::istringstream pids(procs);
  for (std::string pid; pids >> pid;) {
    if (!write_file(leaf + "/cgroup.procs", pid, error)) return false;
  }
  if (!write_file(v2_base_ + "/cgroup.subtree_control", "+memory +pids", error)) return false;
  prepared_ = true;
  return true;
}

bool CgroupTree::ensure_group(const std::string& name, const CgroupLimits& limits, CgroupPlacement& out,
                              std::string& error) {
  out = {};
  switch (version_) {
    case CgroupVersion::none:
      error = reason_;
      return false;
    case CgroupVersion::v2: {
      if (!prepare(error)) return false;
      std::string dir = v2_base_ + "/" + name;
      if (!make_dir(dir, error) || !write_file(dir + "/memory.max", std::to_string(limits.memory_bytes), error) ||
          !write_file(dir + "/pids.max", std::to_string(limits.pids), error)) {
        return false;
      }
      out.version = CgroupVersion::v2;
      out.v2_dir = dir;
      out.oom_counter = dir + "/memory.events";
      out.pids_counter = dir + "/pids.events";
      return true;
    }
    case CgroupVersion::v1: {
      std::string memory = v1_memory_base_ + "/" + name;
      std::string pids = v1_pids_base_ + "/" + name;
      if (!make_dir(v1_memory_base_, error) || !make_dir(v1_pids_base_, error) || !make_dir(memory, error) ||
          !make_dir(pids, error) ||
          !write_file(memory + "/memory.limit_in_bytes", std::to_string(limits.memory_bytes), error) ||
          !write_file(pids + "/pids.max", std::to_string(limits.pids), error)) {
        return false;
      }
      out.version = CgroupVersion::v1;
      out.v1_procs = {memory + "/cgroup.procs", pids + "/cgroup.procs"};
      out.oom_counter = memory + "/memory.oom_control";
      out.pids_counter = pids + "/pids.events";
      return true;
    }
  }
  return false;
}

bool CgroupTree::remove_group(const std::string& name) {
  switch (version_) {
    case CgroupVersion::none: return true;
    case CgroupVersion::v2: return rmdir((v2_base_ + "/" + name).c_str()) == 0 || errno == ENOENT;
    case CgroupVersion::v1: {
      bool memory = rmdir((v1_memory_base_ + "/" + name).c_str()) == 0 || errno == ENOENT;
      bool pids = rmdir((v1_pids_base_ + "/" + name).c_str()) == 0 || errno == ENOENT;
      return memory && pids;
    }
  }
  return false;
}

}  // namespace sandbox
