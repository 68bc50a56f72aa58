#include "worker/api_tasks.h"

#include "worker/job_queue.h"
#include "worker/js_util.h"
#include "worker/runtime.h"

namespace worker {
namespace {

bool get_context(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().set(Runtime::from(cx).jobs().current_context());
  return true;
}

bool set_context(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Runtime::from(cx).jobs().set_current_context(args.get(0));
  args.rval().setUndefined();
  return true;
}

bool queue_microtask(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !JS::IsCallable(&args[0].toObject())) {
    return throw_type_error(cx, "queueMicrotask: a function is required");
  }
  JS::RootedObject callback(cx, &args[0].toObject());
  if (!Runtime::from(cx).jobs().enqueue_microtask(callback)) {
    JS_ReportOutOfMemory(cx);
    return false;
  }
  args.rval().setUndefined();
  return true;
}

// nextTick(fn, argsArray | undefined)
bool next_tick(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !JS::IsCallable(&args[0].toObject())) {
    return throw_type_error(cx, "nextTick: a function is required");
  }
  JS::RootedObject callback(cx, &args[0].toObject());
  if (!Runtime::from(cx).jobs().enqueue_tick(callback, args.get(1))) {
    JS_ReportOutOfMemory(cx);
    return false;
  }
  args.rval().setUndefined();
  return true;
}

bool drain_microtasks(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Runtime::from(cx).jobs().drain();
  args.rval().setUndefined();
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("getContext", get_context, 0, 0),
    JS_FN("setContext", set_context, 1, 0),
    JS_FN("queueMicrotask", queue_microtask, 1, 0),
    JS_FN("nextTick", next_tick, 2, 0),
    JS_FN("drainMicrotasks", drain_microtasks, 0, 0),
    JS_FS_END,
};

}  // namespace

bool install_tasks_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
