#include "worker/api_timers.h"

#include <time.h>

#include <js/Conversions.h>

#include "worker/js_util.h"
#include "worker/runtime.h"

namespace worker {

TimerBinding::TimerBinding(Runtime& runtime)
    : runtime_(runtime),
      timer_callback_(runtime.cx()),
      immediate_callback_(runtime.cx()),
      hrtime_origin_ns_(uv_hrtime()) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  time_origin_ms_ = static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
  timer_.init(uv_timer_init, runtime.loop());
  timer_->data = this;
  check_.init(uv_check_init, runtime.loop());
  check_->data = this;
  uv_check_start(check_.get(), [](uv_check_t* h) {
    if (h->data) static_cast<TimerBinding*>(h->data)->on_check();
  });
  uv_unref(reinterpret_cast<uv_handle_t*>(check_.get()));
  idle_.init(uv_idle_init, runtime.loop());
  idle_->data = this;
}

void TimerBinding::on_timer() {
  if (timer_callback_.isUndefined()) return;
  CallbackScope scope(runtime_);
  JSContext* cx = runtime_.cx();
  JS::RootedValue callback(cx, timer_callback_);
  JS::RootedValueArray<1> args(cx);
  args[0].setNumber(static_cast<double>(uv_now(runtime_.loop())));
  JS::RootedValue ignored(cx);
  if (!JS::Call(cx, JS::UndefinedHandleValue, callback, args, &ignored)) runtime_.report_pending_exception();
}

void TimerBinding::on_check() {
  if (!immediate_pending_ || immediate_callback_.isUndefined()) return;
  CallbackScope scope(runtime_);
  JSContext* cx = runtime_.cx();
  JS::RootedValue callback(cx, immediate_callback_);
  JS::RootedValue ignored(cx);
  if (!JS::Call(cx, JS::UndefinedHandleValue, callback, JS::HandleValueArray::empty(), &ignored)) {
    runtime_.report_pending_exception();
  }
}

bool TimerBinding::now(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setNumber(static_cast<double>(uv_now(Runtime::from(cx).loop())));
  return true;
}

bool TimerBinding::hrtime_ms(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto& self = Runtime::from(cx).timers();
  args.rval().setNumber(static_cast<double>(uv_hrtime() - self.hrtime_origin_ns_) / 1e6);
  return true;
}

bool TimerBinding::time_origin(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setNumber(Runtime::from(cx).timers().time_origin_ms_);
  return true;
}

bool TimerBinding::timer_arm(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto& self = Runtime::from(cx).timers();
  double delay = args.get(0).isNumber() ? args[0].toNumber() : 0;
  if (!(delay >= 0)) delay = 0;
  uv_timer_start(
      self.timer_.get(),
      [](uv_timer_t* h) {
        if (h->data) static_cast<TimerBinding*>(h->data)->on_timer();
      },
      static_cast<uint64_t>(delay), 0);
  args.rval().setUndefined();
  return true;
}

bool TimerBinding::timer_disarm(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  uv_timer_stop(Runtime::from(cx).timers().timer_.get());
  args.rval().setUndefined();
  return true;
}

bool TimerBinding::set_timer_callback(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Runtime::from(cx).timers().timer_callback_ = args.get(0);
  args.rval().setUndefined();
  return true;
}

bool TimerBinding::set_immediate_callback(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Runtime::from(cx).timers().immediate_callback_ = args.get(0);
  args.rval().setUndefined();
  return true;
}

bool TimerBinding::set_immediate_pending(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto& self = Runtime::from(cx).timers();
  bool pending = JS::ToBoolean(args.get(0));
  if (pending != self.immediate_pending_) {
    self.immediate_pending_ = pending;
    if (pending) {
      uv_idle_start(self.idle_.get(), [](uv_idle_t*) {});
    } else {
      uv_idle_stop(self.idle_.get());
    }
  }
  args.rval().setUndefined();
  return true;
}

bool TimerBinding::install(JSContext* cx, JS::HandleObject native) {
  static const JSFunctionSpec functions[] = {
      JS_FN("now", now, 0, 0),
      JS_FN("hrtimeMs", hrtime_ms, 0, 0),
      JS_FN("timeOrigin", time_origin, 0, 0),
      JS_FN("timerArm", timer_arm, 1, 0),
      JS_FN("timerDisarm", timer_disarm, 0, 0),
      JS_FN("setTimerCallback", set_timer_callback, 1, 0),
      JS_FN("setImmediateCallback", set_immediate_callback, 1, 0),
      JS_FN("setImmediatePending", set_immediate_pending, 1, 0),
      JS_FS_END,
  };
  return JS_DefineFunctions(cx, native, functions);
}

}  // namespace worker
