#include "worker/engine_tasks.h"

#include <js/GCAPI.h>

#include "worker/runtime.h"

namespace worker {

EngineTasks::EngineTasks(Runtime& runtime) : runtime_(runtime), cleanups_(runtime.cx()) {}

EngineTasks::~EngineTasks() { shut_down(); }

bool EngineTasks::install() {
  if (wake_.init(uv_async_init, runtime_.loop(), [](uv_async_t* handle) {
        if (auto* self = static_cast<EngineTasks*>(handle->data)) self->run_pending();
      }) != 0) {
    return false;
  }
  wake_->data = this;
  // An idle worker's loop must still be able to end: the handle alone does
  // not keep it alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(wake_.get()));
  JS::InitDispatchToEventLoop(runtime_.cx(), dispatch, this);
  JS::SetHostCleanupFinalizationRegistryCallback(runtime_.cx(), cleanup_needed, this);
  return true;
}

bool EngineTasks::dispatch(void* closure, JS::Dispatchable* dispatchable) {
  auto* self = static_cast<EngineTasks*>(closure);
  std::lock_guard lock(self->mutex_);
  if (self->shutting_down_) return false;
  self->dispatchables_.push_back(dispatchable);
  uv_async_send(self->wake_.get());
  return true;
}

void EngineTasks::cleanup_needed(JSFunction* cleanup, JSObject*, void* data) {
  // During a collection: only noted here, run from the loop.
  auto* self = static_cast<EngineTasks*>(data);
  if (!self->cleanups_.append(cleanup)) return;
  if (self->wake_) uv_async_send(self->wake_.get());
}

void EngineTasks::run_pending() {
  std::vector<JS::Dispatchable*> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(dispatchables_);
  }
  JSContext* cx = runtime_.cx();
  for (JS::Dispatchable* dispatchable : ready) {
    CallbackScope scope(runtime_);
    dispatchable->run(cx, JS::Dispatchable::NotShuttingDown);
  }
  while (!cleanups_.empty()) {
    JS::RootedFunction cleanup(cx, cleanups_.back());
    cleanups_.popBack();
    CallbackScope scope(runtime_);
    JS::RootedValue ignored(cx);
    JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
    if (!JS_CallFunction(cx, global, cleanup, JS::HandleValueArray::empty(), &ignored)) {
      runtime_.report_pending_exception();
    }
  }
}

void EngineTasks::shut_down() {
  std::vector<JS::Dispatchable*> pending;
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    shutting_down_ = true;
    pending.swap(dispatchables_);
  }
  for (JS::Dispatchable* dispatchable : pending) dispatchable->run(runtime_.cx(), JS::Dispatchable::ShuttingDown);
  cleanups_.clear();
  wake_.reset();
}

}  // namespace worker
