#include "supervisor/latency_slice.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/process.h"

namespace supervisor {
namespace {

bool current_attr(SchedAttr& attr) {
  attr = {};
  return syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0;
}

}  // namespace

LatencySlice request_latency_slice(uint32_t slice_us) {
  SchedAttr attr;
  if (!current_attr(attr)) return {false, "sched_getattr: " + common::errno_text(errno)};
  if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH) {
    return {false, "the supervisor does not run under the normal scheduling policy"};
  }
  // Only the slice changes: policy and nice stay what the operator set.
  attr.size = sizeof attr;
  attr.sched_flags = 0;
  attr.sched_runtime = uint64_t{slice_us} * 1000;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return {false, "sched_setattr: " + common::errno_text(errno)};
  // Kernels before 6.12 accept the call and ignore the runtime of a normal
  // task; reading it back tells.
  SchedAttr now;
  if (!current_attr(now) || now.sched_runtime != attr.sched_runtime) {
    return {false, "this kernel has no custom slices for normal tasks (Linux 6.12 or later has)"};
  }
  return {true, ""};
}

DefaultSlice::DefaultSlice() {
  known_ = current_attr(attr_);
  attr_.size = sizeof attr_;
  attr_.sched_flags = 0;
  attr_.sched_runtime = 0;  // the kernel's default slice
}

void DefaultSlice::apply() const noexcept {
  if (known_) syscall(SYS_sched_setattr, 0, &attr_, 0);
}

}  // namespace supervisor
