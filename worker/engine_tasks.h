#pragma once
// Work the engine hands back to the event loop: Dispatchables (the end of an
// off-thread WebAssembly compile, posted from a helper thread) and
// FinalizationRegistry cleanups (asked for during a collection, when no
// JavaScript may run). Both wait in a queue and run as their own task on the
// loop, each followed by its promise jobs, as in Node.

#include <uv.h>

#include <jsapi.h>
#include <js/GCVector.h>
#include <js/Promise.h>

#include <mutex>
#include <vector>

#include "common/uv_handle.h"

namespace worker {

class Runtime;

class EngineTasks {
 public:
  explicit EngineTasks(Runtime& runtime);
  ~EngineTasks();
  EngineTasks(const EngineTasks&) = delete;
  EngineTasks& operator=(const EngineTasks&) = delete;

  // Registers with the engine; false if the loop handle cannot be made.
  bool install();
  // Refuses new dispatchables and lets the pending ones abandon their work
  // (the worker is going away).
  void shut_down();

 private:
  static bool dispatch(void* closure, JS::Dispatchable* dispatchable);
  static void cleanup_needed(JSFunction* cleanup, JSObject* incumbent_global, void* data);
  void run_pending();

  Runtime& runtime_;
  common::UvHandle<uv_async_t> wake_;
  std::mutex mutex_;  // dispatch() is called from the engine's helper threads
  std::vector<JS::Dispatchable*> dispatchables_;
  bool shutting_down_ = false;
  JS::PersistentRooted<JS::GCVector<JSFunction*, 0, js::SystemAllocPolicy>> cleanups_;
};

}  // namespace worker
