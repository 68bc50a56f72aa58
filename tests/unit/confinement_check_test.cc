#include "supervisor/confinement_check.h"

#include <doctest/doctest.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using supervisor::check_confinement;
using supervisor::ExpectedConfinement;

namespace {

constexpr uid_t kNobody = 65534;

// A child that drops to nobody with no_new_privs (no seccomp) and waits
// until the test is done with it. Needs root, as the suite does.
class DroppedChild {
 public:
  DroppedChild() {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      close(fds[1]);
      bool ok = setgroups(0, nullptr) == 0 && setresgid(kNobody, kNobody, kNobody) == 0 &&
                setresuid(kNobody, kNobody, kNobody) == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
      char byte;
      if (ok) (void)!read(fds[0], &byte, 1);  // until the parent closes its end
      _exit(ok ? 0 : 1);
    }
    close(fds[0]);
    release_ = fds[1];
    // Until the child has dropped: poll its status for the new uid.
    for (int i = 0; i < 500 && check_confinement(pid_, {kNobody, kNobody, false}).starts_with("Uid"); ++i) {
      usleep(2000);
    }
  }
  ~DroppedChild() {
    close(release_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
};

}  // namespace

TEST_CASE("an unprivileged process with no_new_privs passes without seccomp, and only then") {
  DroppedChild child;
  CHECK(check_confinement(child.pid(), {kNobody, kNobody, false}) == "");
  CHECK(check_confinement(child.pid(), {kNobody, kNobody, true}) == "Seccomp is 0, expected 2 (filter mode)");
  CHECK(check_confinement(child.pid(), {1000, kNobody, false}).starts_with("Uid is 65534"));
  CHECK(check_confinement(child.pid(), {kNobody, 1000, false}).starts_with("Gid is 65534"));
}

TEST_CASE("a process holding capabilities fails") {
  // This test process itself: root, with capabilities.
  std::string mismatch = check_confinement(getpid(), {getuid(), getgid(), false});
  CHECK(mismatch.starts_with("CapPrm is "));
}

TEST_CASE("a process that does not exist fails with the path it could not read") {
  CHECK(check_confinement(0x3ffffff, {0, 0, false}) == "cannot read /proc/67108863/status");
}
