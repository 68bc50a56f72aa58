#include "supervisor/tenant/uid_allocation.h"

#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

using supervisor::tenant::kFirstTenantUid;
using supervisor::tenant::kLastTenantUid;
using supervisor::tenant::pick_uid;
using supervisor::tenant::UidRegistry;

namespace {

const auto nothing_taken = [](uid_t) { return false; };

struct TempDir {
  TempDir() {
    char name[] = "/tmp/uid-allocation-test-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

}  // namespace

TEST_CASE("pick_uid: the same name gives the same uid, inside portbroker's range") {
  for (const char* name : {"alice", "bob", "a", "tenant-with-a-long-name-0123456789"}) {
    uid_t uid = pick_uid(name, nothing_taken);
    CHECK(uid >= kFirstTenantUid);
    CHECK(uid <= kLastTenantUid);
    CHECK(pick_uid(name, nothing_taken) == uid);
  }
  // Names spread over the range: different names rarely start at one place.
  std::set<uid_t> starts;
  for (int i = 0; i < 100; ++i) starts.insert(pick_uid("t" + std::to_string(i), nothing_taken));
  CHECK(starts.size() >= 98);
}

TEST_CASE("pick_uid: a taken uid is passed over for the next free one, wrapping at the range's end") {
  uid_t first = pick_uid("alice", nothing_taken);
  uid_t next = pick_uid("alice", [&](uid_t uid) { return uid == first; });
  CHECK(next == (first == kLastTenantUid ? kFirstTenantUid : first + 1));
  // Everything from the start to the end of the range taken: the search wraps.
  uid_t wrapped = pick_uid("alice", [&](uid_t uid) { return uid >= first; });
  CHECK(wrapped == (first == kFirstTenantUid ? 0u : kFirstTenantUid));
}

TEST_CASE("pick_uid: no uid when the whole range is taken") {
  CHECK(pick_uid("alice", [](uid_t) { return true; }) == 0);
}

TEST_CASE("UidRegistry: nothing recorded yet is not an error; allocations are stable and survive a save") {
  TempDir dir;
  const std::string path = dir.path + "/tenant-uids.json";
  std::string error;
  UidRegistry registry(path);
  REQUIRE(registry.load(error));
  CHECK(registry.allocations().empty());
  uid_t alice = registry.uid_for("alice", error);
  uid_t bob = registry.uid_for("bob", error);
  REQUIRE(alice != 0);
  REQUIRE(bob != 0);
  CHECK(alice != bob);
  CHECK(registry.uid_for("alice", error) == alice);
  REQUIRE(registry.save(error));
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));

  UidRegistry again(path);
  REQUIRE(again.load(error));
  CHECK(again.allocations().size() == 2);
  CHECK(again.uid_for("alice", error) == alice);
  CHECK(again.uid_for("bob", error) == bob);
}

TEST_CASE("UidRegistry: a recorded uid is kept even where a new tenant's name would start") {
  TempDir dir;
  const std::string path = dir.path + "/tenant-uids.json";
  // carol's recorded uid is where dave's search would begin: dave moves on.
  uid_t dave_start = pick_uid("dave", nothing_taken);
  std::ofstream(path) << "{\"carol\": " << dave_start << "}\n";
  std::string error;
  UidRegistry registry(path);
  REQUIRE(registry.load(error));
  CHECK(registry.uid_for("carol", error) == dave_start);
  uid_t dave = registry.uid_for("dave", error);
  CHECK(dave != 0);
  CHECK(dave != dave_start);
}

TEST_CASE("UidRegistry: a file that is not a map of names to uids of the range is refused") {
  TempDir dir;
  const std::string path = dir.path + "/tenant-uids.json";
  for (const std::string text : {"[]", "{\"alice\": 1}", "{\"alice\": \"196608\"}", "{\"alice\": 262144}", "not json"}) {
    CAPTURE(text);
    std::ofstream(path, std::ios::trunc) << text;
    std::string error;
    UidRegistry registry(path);
    CHECK_FALSE(registry.load(error));
    CHECK(error.find(path) == 0);
  }
}
