#include "worker/watchdog.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/process.h"

namespace worker {
namespace {

Watchdog* g_watchdog = nullptr;  // one per worker; the interrupt hook is per context

// Resident memory moves fast in a hoarding loop: checked this often.
constexpr uint64_t kMemoryPeriodMs = 50;
// How long a tripped limit waits for the engine to reach an interrupt check
// before the process is ended from here.
constexpr uint64_t kHardStopMs = 2000;

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace

Watchdog::Watchdog(JSContext* cx, Limits limits, common::UniqueFd statm)
    : cx_(cx), limits_(limits), statm_(std::move(statm)) {
  if (!statm_) limits_.memory_bytes = 0;
  g_watchdog = this;
  JS_AddInterruptCallback(cx_, &Watchdog::on_interrupt);
  thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  g_watchdog = nullptr;
}

void Watchdog::enter() { busy_since_ms_.store(now_ms()); }

void Watchdog::leave() { busy_since_ms_.store(0); }

// Returning false ends the running script with an uncatchable error.
bool Watchdog::on_interrupt(JSContext*) { return g_watchdog == nullptr || !g_watchdog->fired(); }

std::string Watchdog::reason() const {
  switch (static_cast<ipc::WorkerExit>(tripped_.load())) {
    case ipc::WorkerExit::cpu_limit:
      return "the CPU watchdog stopped a callback that ran for more than " + std::to_string(limits_.cpu_ms) +
             " ms without yielding";
    case ipc::WorkerExit::memory_limit:
      return "the memory watchdog stopped the worker: resident memory reached " +
             std::to_string(resident_at_trip_.load() >> 20) + " MiB, over the limit of " +
             std::to_string(limits_.memory_bytes >> 20) + " MiB";
    default:
      return "the JavaScript engine stopped (out of memory, or an uncatchable error)";
  }
}

ipc::WorkerExit Watchdog::exit_status() const {
  int tripped = tripped_.load();
  return tripped != 0 ? static_cast<ipc::WorkerExit>(tripped) : ipc::WorkerExit::engine_stopped;
}

uint64_t Watchdog::resident_bytes() const {
  char text[128] = {};
  ssize_t n = pread(statm_.get(), text, sizeof text - 1, 0);
  if (n <= 0) return 0;
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(text, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void Watchdog::trip(ipc::WorkerExit why, uint64_t now) {
  int expected = 0;
  if (!tripped_.compare_exchange_strong(expected, static_cast<int>(why))) return;
  tripped_at_ms_ = now;
  JS_RequestInterruptCallback(cx_);
}

void Watchdog::run() {
  // The CPU limit is checked four times per limit, keeping the overrun under
  // a quarter of it.
  uint64_t period = limits_.cpu_ms != 0 ? std::max<uint64_t>(limits_.cpu_ms / 4, 10) : kMemoryPeriodMs;
  if (limits_.memory_bytes != 0) period = std::min(period, kMemoryPeriodMs);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(period));
    if (stopping_) break;
    // Read before the clock: a callback entered in between must not look
    // older than it is.
    uint64_t since = busy_since_ms_.load();
    uint64_t now = now_ms();
    if (fired()) {
      // Not interrupted in time: nothing the engine does can be waited for.
      if (now - tripped_at_ms_ > kHardStopMs) _exit(static_cast<int>(exit_status()));
      continue;
    }
    if (limits_.cpu_ms != 0 && since != 0 && now > since + limits_.cpu_ms) {
      trip(ipc::WorkerExit::cpu_limit, now);
    } else if (limits_.memory_bytes != 0) {
      uint64_t resident = resident_bytes();
      if (resident > limits_.memory_bytes) {
        resident_at_trip_.store(resident);
        trip(ipc::WorkerExit::memory_limit, now);
      }
    }
  }
}

}  // namespace worker
