#pragma once
// The worker's watchdog: a thread that stops JavaScript which runs too long
// without yielding (a handler stuck in a loop), and a worker whose resident
// memory grows past its limit (a handler hoarding data: the engine's heap
// limit does not count the memory behind arrays and strings). A libuv timer
// cannot do this, since it cannot fire while JavaScript blocks the loop.
// When a limit trips, the engine is asked to interrupt, the interrupt
// callback refuses to continue, and the worker ends; the supervisor restarts
// it. A worker that does not reach an interrupt check soon (stuck in native
// code, or idle while over its memory limit) is ended from this thread.

#include <jsapi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "ipc/messages.h"

namespace worker {

class Watchdog {
 public:
  struct Limits {
    uint32_t cpu_ms = 0;        // 0: no limit
    uint64_t memory_bytes = 0;  // 0: no limit
  };

  // `statm` is /proc/self/statm, opened before seccomp; without it there is
  // no memory limit (the sandbox report says so).
  Watchdog(JSContext* cx, Limits limits, common::UniqueFd statm);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // The outermost callback starts and ends running JavaScript.
  void enter();
  void leave();
  bool fired() const { return tripped_.load() != 0; }
  // What tripped, for the log and status, and the exit status that says it.
  std::string reason() const;
  ipc::WorkerExit exit_status() const;

 private:
  static bool on_interrupt(JSContext* cx);
  void run();
  uint64_t resident_bytes() const;
  void trip(ipc::WorkerExit why, uint64_t now);

  JSContext* cx_;
  Limits limits_;
  common::UniqueFd statm_;
  std::atomic<uint64_t> busy_since_ms_{0};
  std::atomic<int> tripped_{0};  // an ipc::WorkerExit, or 0
  std::atomic<uint64_t> resident_at_trip_{0};
  uint64_t tripped_at_ms_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace worker
