#pragma once
// Ownership of libuv handles. A handle's memory may only be freed after libuv ran
// its close callback, which can be long after the owning C++ object is gone; so
// the handle lives on the heap and the close callback frees it. Owners clear
// `data` first, so no callback can reach a destroyed owner.

#include <uv.h>

#include <utility>

namespace common {

template <typename Handle>
class UvHandle {
 public:
  UvHandle() = default;
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  ~UvHandle() { reset(); }

  // Allocates and initialises the handle with `init(loop, handle, args...)`;
  // returns libuv's error code (0 on success), leaving this empty on failure.
  template <typename Init, typename... Args>
  int init(Init init_fn, uv_loop_t* loop, Args&&... args) {
    reset();
    auto* handle = new Handle{};
    int rc = init_fn(loop, handle, std::forward<Args>(args)...);
    if (rc != 0) {
      delete handle;
      return rc;
    }
    handle_ = handle;
    return 0;
  }

  // For initialisers that register the handle with the loop even when they
  // fail (uv_spawn): on failure the handle is closed, not just freed.
  template <typename Init, typename... Args>
  int init_or_close(Init init_fn, uv_loop_t* loop, Args&&... args) {
    reset();
    auto* handle = new Handle{};
    int rc = init_fn(loop, handle, std::forward<Args>(args)...);
    handle_ = handle;
    if (rc != 0) reset();
    return rc;
  }

  void reset() {
    if (handle_ == nullptr) return;
    auto* base = reinterpret_cast<uv_handle_t*>(std::exchange(handle_, nullptr));
    base->data = nullptr;
    uv_close(base, [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
  }

  Handle* get() const { return handle_; }
  Handle* operator->() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  Handle* handle_ = nullptr;
};

// Closes every handle still open on `loop` and runs it until the close callbacks
// have freed them, so the loop can be closed without leaks at process exit.
void drain_and_close_loop(uv_loop_t* loop);

}  // namespace common
