#pragma once
// Gives memory back after a burst. Under load the engine grows its nursery
// and tenured heap and, by default, keeps up to 30 empty 1 MiB chunks for
// later; glibc keeps freed blocks in its arenas. Neither shrinks on its own,
// so a worker that once served a flood (a million spoofed UDP sources, a
// spike of connections) would stay at its high-water mark and creep towards
// the memory watchdog's limit. Like V8's memory reducer in Node, this waits
// for the worker to go quiet after activity, then runs one shrinking
// collection and trims malloc's arenas.

#include <jsapi.h>
#include <uv.h>

#include <cstdint>

#include "common/uv_handle.h"

namespace worker {

class MemoryReducer {
 public:
  // Sets the engine's chunk-pool bounds at once; the timer belongs to `loop`.
  MemoryReducer(JSContext* cx, uv_loop_t* loop);
  MemoryReducer(const MemoryReducer&) = delete;
  MemoryReducer& operator=(const MemoryReducer&) = delete;

  // JavaScript ran (the outermost callback ended): look again once the
  // worker has been quiet for a while.
  void note_activity();

 private:
  void check();
  void shrink();

  JSContext* cx_;
  uv_loop_t* loop_;
  common::UvHandle<uv_timer_t> timer_;
  uint64_t callbacks_ = 0;
  uint64_t callbacks_at_last_check_ = 0;
  // What the engine had committed after the last shrink (or at start): less
  // growth than a couple of MiB is not worth a full collection.
  uint64_t committed_after_shrink_ = 0;
};

}  // namespace worker
