#include "worker/job_queue.h"

#include <js/GCAPI.h>

#include <js/Array.h>
#include <js/Exception.h>

#include "common/log.h"

namespace worker {

bool JobQueue::Queue::push(JSObject* callback, const JS::Value& arguments, const JS::Value& context) {
  return callbacks.append(callback) && args.append(arguments) && contexts.append(context);
}

void JobQueue::Queue::compact() {
  callbacks.erase(callbacks.begin(), callbacks.begin() + head);
  args.erase(args.begin(), args.begin() + head);
  contexts.erase(contexts.begin(), contexts.begin() + head);
  head = 0;
}

void JobQueue::Queue::reset() {
  callbacks.clear();
  args.clear();
  contexts.clear();
  head = 0;
}

JobQueue::JobQueue(JSContext* cx, UncaughtReporter reporter)
    : cx_(cx),
      reporter_(std::move(reporter)),
      ticks_(cx),
      microtasks_(cx),
      unhandled_(cx),
      unhandled_contexts_(cx),
      current_context_(cx) {
  JS::SetJobQueue(cx, this);
  JS::SetPromiseRejectionTrackerCallback(cx, &JobQueue::track_rejection, this);
}

JobQueue::~JobQueue() { JS::SetPromiseRejectionTrackerCallback(cx_, nullptr, nullptr); }

JSObject* JobQueue::getIncumbentGlobal(JSContext* cx) { return JS::CurrentGlobalOrNull(cx); }

bool JobQueue::enqueuePromiseJob(JSContext* cx, JS::HandleObject, JS::HandleObject job, JS::HandleObject,
                                 JS::HandleObject) {
  if (!microtasks_.push(job, JS::UndefinedValue(), current_context_)) {
    JS_ReportOutOfMemory(cx);
    return false;
  }
  return true;
}

js::UniquePtr<JS::JobQueue::SavedJobQueue> JobQueue::saveJobQueue(JSContext* cx) {
  JS_ReportErrorASCII(cx, "saving the job queue is not supported (no debugger in workers)");
  return nullptr;
}

bool JobQueue::empty() const { return ticks_.empty() && microtasks_.empty(); }

bool JobQueue::enqueue_microtask(JS::HandleObject callback) {
  return microtasks_.push(callback, JS::UndefinedValue(), current_context_);
}

bool JobQueue::enqueue_tick(JS::HandleObject callback, JS::HandleValue args) {
  return ticks_.push(callback, args, current_context_);
}

void JobQueue::run(Queue& queue) {
  JS::RootedObject callback(cx_);
  JS::RootedValue args_value(cx_);
  JS::RootedValue context(cx_);
  JS::RootedValue callee(cx_);
  JS::RootedValue ignored(cx_);
  JS::RootedValue previous(cx_);
  while (!queue.empty()) {
    size_t index = queue.head++;
    callback = queue.callbacks[index];
    args_value = queue.args[index];
    context = queue.contexts[index];
    callee.setObject(*callback);
    previous = current_context_;
    current_context_ = context;
    bool ok;
    if (args_value.isObject()) {
      // nextTick(fn, ...args): the arguments travel as an array.
      JS::RootedObject array(cx_, &args_value.toObject());
      uint32_t length = 0;
      JS::RootedValueVector argv(cx_);
      ok = JS::GetArrayLength(cx_, array, &length) && argv.resize(length);
      for (uint32_t i = 0; ok && i < length; ++i) ok = JS_GetElement(cx_, array, i, argv[i]);
      ok = ok && JS::Call(cx_, JS::UndefinedHandleValue, callee, JS::HandleValueArray(argv), &ignored);
    } else {
      ok = JS::Call(cx_, JS::UndefinedHandleValue, callee, JS::HandleValueArray::empty(), &ignored);
    }
    if (!ok) {
      JS::RootedValue error(cx_);
      if (JS_GetPendingException(cx_, &error)) {
        JS_ClearPendingException(cx_);
        reporter_(error, context, false);
      } else {
        common::log::error("job-terminated").kv("reason", "uncatchable error in a queued job");
      }
    }
    current_context_ = previous;
    // A job that keeps queueing jobs must not grow the storage without bound.
    if (queue.head >= kCompactAfter && queue.head * 2 >= queue.callbacks.length()) queue.compact();
  }
  queue.reset();
}

void JobQueue::drain() {
  if (draining_) return;
  draining_ = true;
  do {
    do {
      run(ticks_);
      run(microtasks_);
    } while (!ticks_.empty());
  } while (report_rejections());
  // The end of the checkpoint: WeakRef targets kept alive for the jobs that
  // just ran may be collected now (the spec's ClearKeptObjects).
  JS::ClearKeptObjects(cx_);
  draining_ = false;
}

void JobQueue::track_rejection(JSContext*, bool, JS::HandleObject promise, JS::PromiseRejectionHandlingState state,
                               void* data) {
  auto* self = static_cast<JobQueue*>(data);
  if (state == JS::PromiseRejectionHandlingState::Unhandled) {
    if (!self->unhandled_.append(promise) || !self->unhandled_contexts_.append(self->current_context_)) {
      common::log::error("rejection-tracking-failed").kv("reason", "out of memory");
    }
    return;
  }
  // A handler was attached later in the same turn: no longer unhandled.
  for (size_t i = 0; i < self->unhandled_.length(); ++i) {
    if (self->unhandled_[i] == promise) {
      self->unhandled_.erase(self->unhandled_.begin() + i);
      self->unhandled_contexts_.erase(self->unhandled_contexts_.begin() + i);
      return;
    }
  }
}

bool JobQueue::report_rejections() {
  if (unhandled_.empty()) return false;
  JS::RootedObject promise(cx_);
  JS::RootedValue reason(cx_);
  JS::RootedValue context(cx_);
  while (!unhandled_.empty()) {
    promise = unhandled_[0];
    context = unhandled_contexts_[0];
    unhandled_.erase(unhandled_.begin());
    unhandled_contexts_.erase(unhandled_contexts_.begin());
    reason = JS::GetPromiseResult(promise);
    reporter_(reason, context, true);
  }
  return true;
}

}  // namespace worker
