#pragma once
// native.now / hrtimeMs / timeOrigin / timerArm / timerDisarm / setTimerCallback
// / setImmediateCallback / setImmediatePending: the loop side of timers.js.

#include <jsapi.h>
#include <uv.h>

#include "common/uv_handle.h"

namespace worker {

class Runtime;

class TimerBinding {
 public:
  explicit TimerBinding(Runtime& runtime);
  TimerBinding(const TimerBinding&) = delete;
  TimerBinding& operator=(const TimerBinding&) = delete;

  static bool install(JSContext* cx, JS::HandleObject native);

 private:
  static bool now(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool hrtime_ms(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool time_origin(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool timer_arm(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool timer_disarm(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool set_timer_callback(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool set_immediate_callback(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool set_immediate_pending(JSContext* cx, unsigned argc, JS::Value* vp);

  void on_timer();
  void on_check();

  Runtime& runtime_;
  common::UvHandle<uv_timer_t> timer_;
  common::UvHandle<uv_check_t> check_;
  // Active only while immediates wait, so the loop polls without blocking.
  common::UvHandle<uv_idle_t> idle_;
  JS::PersistentRootedValue timer_callback_;
  JS::PersistentRootedValue immediate_callback_;
  bool immediate_pending_ = false;
  uint64_t hrtime_origin_ns_;
  double time_origin_ms_;
};

}  // namespace worker
