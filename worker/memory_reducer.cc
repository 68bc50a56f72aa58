#include "worker/memory_reducer.h"

#include <js/GCAPI.h>
#include <malloc.h>

namespace worker {
namespace {

// How long the worker must stay without callbacks before it counts as quiet.
// Long enough that a steady trickle of requests never pays for a full
// collection, short enough that memory comes back soon after a burst.
constexpr uint64_t kQuietMs = 2000;
// Empty 1 MiB chunks the engine may keep for reuse (its default is 30, sized
// for a browser; a worker's steady state needs a few).
constexpr uint32_t kMaxEmptyChunks = 2;
// Growth since the last shrink that is worth a full collection, in the
// engine's committed memory (chunks and nursery).
constexpr uint64_t kGrowthWorthShrinkingBytes = 2 * 1024 * 1024;

uint64_t committed_bytes(JSContext* cx) {
  uint64_t chunk = JS_GetGCParameter(cx, JSGC_CHUNK_BYTES);
  return uint64_t{JS_GetGCParameter(cx, JSGC_TOTAL_CHUNKS)} * chunk + JS_GetGCParameter(cx, JSGC_NURSERY_BYTES);
}

}  // namespace

MemoryReducer::MemoryReducer(JSContext* cx, uv_loop_t* loop) : cx_(cx), loop_(loop) {
  JS_SetGCParameter(cx_, JSGC_MIN_EMPTY_CHUNK_COUNT, 0);
  JS_SetGCParameter(cx_, JSGC_MAX_EMPTY_CHUNK_COUNT, kMaxEmptyChunks);
  committed_after_shrink_ = committed_bytes(cx_);
}

void MemoryReducer::note_activity() {
  ++callbacks_;
  if (timer_) return;  // a check is already pending
  if (timer_.init(uv_timer_init, loop_) != 0) return;
  timer_->data = this;
  // The reducer alone never keeps the worker's loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_.get()));
  callbacks_at_last_check_ = callbacks_;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* handle) {
        if (auto* self = static_cast<MemoryReducer*>(handle->data)) self->check();
      },
      kQuietMs, kQuietMs);
}

void MemoryReducer::check() {
  if (callbacks_ != callbacks_at_last_check_) {  // still busy: look again later
    callbacks_at_last_check_ = callbacks_;
    return;
  }
  timer_.reset();
  if (committed_bytes(cx_) >= committed_after_shrink_ + kGrowthWorthShrinkingBytes) shrink();
}

void MemoryReducer::shrink() {
  // A shrinking collection compacts the tenured heap, releases empty chunks
  // beyond the pool's bound and shrinks the nursery; trimming then returns
  // the freed tops of malloc's arenas (ArrayBuffer contents, strings' chars).
  JS::PrepareForFullGC(cx_);
  JS::NonIncrementalGC(cx_, JS::GCOptions::Shrink, JS::GCReason::API);
  malloc_trim(0);
  committed_after_shrink_ = committed_bytes(cx_);
}

}  // namespace worker
