#pragma once
// Promise jobs, queueMicrotask and process.nextTick, drained the way Node drains
// them after every callback: all nextTick callbacks, then all microtasks, again
// until both are empty; then promises rejected without a handler are reported.
// Each queued job remembers the async context (the connection) current when it
// was queued and runs with it, so errors land on the right connection.

#include <jsapi.h>
#include <js/GCVector.h>
#include <js/Promise.h>

#include <functional>

namespace worker {

class JobQueue final : public JS::JobQueue {
 public:
  // Reports an uncaught error (the thrown value, or the rejection reason) with
  // the context that was current when it happened.
  using UncaughtReporter = std::function<void(JS::HandleValue error, JS::HandleValue context, bool is_rejection)>;

  JobQueue(JSContext* cx, UncaughtReporter reporter);
  ~JobQueue() override;
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  JSObject* getIncumbentGlobal(JSContext* cx) override;
  bool enqueuePromiseJob(JSContext* cx, JS::HandleObject promise, JS::HandleObject job,
                         JS::HandleObject allocation_site, JS::HandleObject incumbent_global) override;
  void runJobs(JSContext*) override { drain(); }
  bool empty() const override;

  bool enqueue_microtask(JS::HandleObject callback);
  bool enqueue_tick(JS::HandleObject callback, JS::HandleValue args);

  // Runs everything queued, Node's order. Re-entrant calls return at once.
  void drain();

  JS::HandleValue current_context() const { return current_context_; }
  void set_current_context(JS::HandleValue context) { current_context_ = context; }

 private:
  // Only the Debugger API saves a job queue, and workers never enable it.
  js::UniquePtr<SavedJobQueue> saveJobQueue(JSContext* cx) override;

  // Parallel vectors: callbacks[i] runs with args[i] and contexts[i].
  struct Queue {
    explicit Queue(JSContext* cx) : callbacks(cx), args(cx), contexts(cx) {}
    JS::PersistentRooted<JS::GCVector<JSObject*, 0, js::SystemAllocPolicy>> callbacks;
    JS::PersistentRooted<JS::GCVector<JS::Value, 0, js::SystemAllocPolicy>> args;
    JS::PersistentRooted<JS::GCVector<JS::Value, 0, js::SystemAllocPolicy>> contexts;
    size_t head = 0;
    bool empty() const { return head == callbacks.length(); }
    bool push(JSObject* callback, const JS::Value& arguments, const JS::Value& context);
    void compact();  // drops the entries already run
    void reset();
  };

  static constexpr size_t kCompactAfter = 4096;

  static void track_rejection(JSContext* cx, bool muted_errors, JS::HandleObject promise,
                              JS::PromiseRejectionHandlingState state, void* data);
  // Runs queue entries until it is empty (including entries added meanwhile).
  void run(Queue& queue);
  // Reports rejected-without-handler promises; true if any was reported.
  bool report_rejections();

  JSContext* cx_;
  UncaughtReporter reporter_;
  Queue ticks_;
  Queue microtasks_;
  JS::PersistentRooted<JS::GCVector<JSObject*, 0, js::SystemAllocPolicy>> unhandled_;
  JS::PersistentRooted<JS::GCVector<JS::Value, 0, js::SystemAllocPolicy>> unhandled_contexts_;
  JS::PersistentRootedValue current_context_;
  bool draining_ = false;
};

}  // namespace worker
