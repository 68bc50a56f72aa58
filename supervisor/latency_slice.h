#pragma once
// The scheduler time slice the supervisor asks for. Linux's EEVDF scheduler
// (6.12 and later) lets a normal task ask for a shorter slice than the
// default (1.4 ms on the development machine): such a task preempts a
// running one when it wakes, instead of waiting its turn, while its share of
// the CPU stays what its nice value gives it. The supervisor's work per wake-up is short (accept, screen,
// hand off; forward a datagram batch) and every new connection waits on it,
// so it asks for one; the store, whose requests are as short, inherits it.
// Workers run handler code of any length: they go back to the default.

#include <cstdint>
#include <string>

namespace supervisor {

// The kernel's struct sched_attr (its first version, 56 bytes): the uapi
// header that declares it clashes with <sched.h> on older systems.
struct SchedAttr {
  uint32_t size = sizeof(SchedAttr);
  uint32_t sched_policy = 0;
  uint64_t sched_flags = 0;
  int32_t sched_nice = 0;
  uint32_t sched_priority = 0;
  uint64_t sched_runtime = 0;
  uint64_t sched_deadline = 0;
  uint64_t sched_period = 0;
  uint32_t sched_util_min = 0;
  uint32_t sched_util_max = 0;
};
static_assert(sizeof(SchedAttr) == 56);

struct LatencySlice {
  bool applied = false;
  std::string reason;  // why not, when not applied
};

// For the calling thread and the processes it starts afterwards.
LatencySlice request_latency_slice(uint32_t slice_us);

// The calling thread's scheduling, with the kernel's default slice: prepared
// before clone, applied by the child before exec with one system call (safe
// between clone and exec).
class DefaultSlice {
 public:
  DefaultSlice();
  void apply() const noexcept;

 private:
  SchedAttr attr_;
  bool known_ = false;
};

}  // namespace supervisor
