#include "sandbox/cgroup.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

// A fake cgroupfs in a temporary folder. Real cgroupfs makes a new group's
// files itself; here the test makes the ones the code writes.
struct FakeHierarchy {
  FakeHierarchy() {
    char name[] = "/tmp/portbroker-cgroup-XXXXXX";
    root = mkdtemp(name);
  }
  ~FakeHierarchy() { fs::remove_all(root); }
  void file(const std::string& path, const std::string& text = "") {
    fs::create_directories(fs::path(root + path).parent_path());
    std::ofstream(root + path) << text;
  }
  std::string read(const std::string& path) const {
    std::ifstream in(root + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string root;
};

}  // namespace

TEST_CASE("cgroup v2: the delegated group becomes an inner node, tenants get groups beside the broker's leaf") {
  FakeHierarchy fake;
  const std::string service = "/system.slice/portbroker.service";
  fake.file("/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
  fake.file(service + "/cgroup.controllers", "memory pids");
  fake.file(service + "/cgroup.subtree_control");
  fake.file(service + "/cgroup.procs", "4242\n4243\n");
  fake.file(service + "/supervisor/cgroup.procs");
  fake.file(service + "/tenant-alice/memory.max");
  fake.file(service + "/tenant-alice/pids.max");
  auto tree = sandbox::CgroupTree::detect(fake.root, "0::" + service + "\n");
  REQUIRE(tree.version() == sandbox::CgroupVersion::v2);
  sandbox::CgroupPlacement placement;
  std::string error;
  REQUIRE_MESSAGE(tree.ensure_group("tenant-alice", {2048ull << 20, 300}, placement, error), error);
  CHECK(placement.version == sandbox::CgroupVersion::v2);
  CHECK(placement.v2_dir == fake.root + service + "/tenant-alice");
  CHECK(fake.read(service + "/tenant-alice/memory.max") == std::to_string(2048ull << 20));
  CHECK(fake.read(service + "/tenant-alice/pids.max") == "300");
  // The broker's processes left the inner node for its leaf, then the
  // controllers were enabled for the children.
  CHECK(fake.read(service + "/supervisor/cgroup.procs") == "4243");  // the last write of each pid
  CHECK(fake.read(service + "/cgroup.subtree_control") == "+memory +pids");
  // The kernel's counters: OOM kills, and forks and clones the pids limit refused.
  fake.file(service + "/tenant-alice/memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n");
  fake.file(service + "/tenant-alice/pids.events", "max 7\n");
  CHECK(sandbox::oom_kills(placement) == 1);
  CHECK(sandbox::process_limit_hits(placement) == 7);
}

TEST_CASE("cgroup v2 without delegation, or without the controllers, is refused with the reason") {
  FakeHierarchy fake;
  fake.file("/cgroup.controllers", "hugetlb");
  fake.file("/system.slice/x.service/cgroup.controllers", "hugetlb");
  auto tree = sandbox::CgroupTree::detect(fake.root, "0::/system.slice/x.service\n");
  CHECK(tree.version() == sandbox::CgroupVersion::none);
  CHECK(tree.reason().find("Delegate=yes") != std::string::npos);
  sandbox::CgroupPlacement placement;
  std::string error;
  CHECK_FALSE(tree.ensure_group("tenant-a", {1, 1}, placement, error));
  CHECK(placement.empty());
}

TEST_CASE("cgroup v1: groups under the broker's own group in the memory and pids hierarchies") {
  FakeHierarchy fake;
  fake.file("/memory/process/portbroker/tenant-bob/memory.limit_in_bytes");
  fake.file("/pids/portbroker/tenant-bob/pids.max");
  auto tree = sandbox::CgroupTree::detect(fake.root, "8:pids:/\n4:memory:/process\n0::/\n");
  REQUIRE(tree.version() == sandbox::CgroupVersion::v1);
  sandbox::CgroupPlacement placement;
  std::string error;
  REQUIRE_MESSAGE(tree.ensure_group("tenant-bob", {64ull << 20, 100}, placement, error), error);
  CHECK(placement.version == sandbox::CgroupVersion::v1);
  CHECK(placement.v1_procs == std::vector<std::string>{fake.root + "/memory/process/portbroker/tenant-bob/cgroup.procs",
                                                        fake.root + "/pids/portbroker/tenant-bob/cgroup.procs"});
  CHECK(fake.read("/memory/process/portbroker/tenant-bob/memory.limit_in_bytes") == std::to_string(64ull << 20));
  CHECK(fake.read("/pids/portbroker/tenant-bob/pids.max") == "100");
  CHECK(sandbox::process_limit_hits(placement) == 0);  // no counter file yet
  fake.file("/memory/process/portbroker/tenant-bob/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  fake.file("/pids/portbroker/tenant-bob/pids.events", "max 2\n");
  CHECK(sandbox::oom_kills(placement) == 3);
  CHECK(sandbox::process_limit_hits(placement) == 2);
  CHECK(sandbox::process_limit_hits(sandbox::CgroupPlacement{}) == 0);
}

TEST_CASE("no hierarchy with memory and pids: no groups") {
  FakeHierarchy fake;
  auto tree = sandbox::CgroupTree::detect(fake.root, "1:name=systemd:/\n");
  CHECK(tree.version() == sandbox::CgroupVersion::none);
  CHECK_FALSE(tree.reason().empty());
}
