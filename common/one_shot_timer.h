#pragma once
// A libuv timer that calls a function once, after a delay. Starting it again
// replaces the pending call; destroying it (or cancel()) drops the call. The
// function may destroy the timer's owner.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <utility>

#include "common/uv_handle.h"

namespace common {

class OneShotTimer {
 public:
  void start(uv_loop_t* loop, uint64_t delay_ms, std::function<void()> fire) {
    fire_ = std::move(fire);
    if (!timer_) {
      timer_.init(uv_timer_init, loop);
      timer_->data = this;
    }
    uv_timer_start(
        timer_.get(),
        [](uv_timer_t* handle) {
          auto* self = static_cast<OneShotTimer*>(handle->data);
          if (self == nullptr || !self->fire_) return;
          // Moved out first: the call may destroy this timer.
          auto callback = std::exchange(self->fire_, nullptr);
          callback();
        },
        delay_ms, 0);
  }

  void cancel() {
    fire_ = nullptr;
    timer_.reset();
  }

  bool pending() const { return static_cast<bool>(fire_); }

 private:
  UvHandle<uv_timer_t> timer_;
  std::function<void()> fire_;
};

}  // namespace common
