#pragma once
// The native side of node:zlib (worker/js/zlib.js): each zlib or brotli stream
// is a handle object that owns its engine (worker/zlib_engine.h). JavaScript
// drives it one step at a time, as Node's zlib.js drives Node's binding: a
// step consumes input and returns at most the output space asked for, with
// what is left of each. zlibWriteSync runs a step on the worker's thread (the
// *Sync functions); zlibWrite runs it on libuv's thread pool and calls back on
// the loop (the callback and stream forms), as Node does on its thread pool.
//
// Bounded: a step never holds more than the output space JavaScript asked for
// (at most chunkSize bytes), and JavaScript stops at maxOutputLength; memory
// the engines take is the worker's, watched by its memory limit.

#include <jsapi.h>
#include <uv.h>

#include <unordered_set>

namespace worker {

class Runtime;

class ZlibBinding {
 public:
  explicit ZlibBinding(Runtime& runtime);
  // Steps still on the thread pool are orphaned: they finish without calling
  // JavaScript, and free themselves when the loop sees them done.
  ~ZlibBinding();
  ZlibBinding(const ZlibBinding&) = delete;
  ZlibBinding& operator=(const ZlibBinding&) = delete;

  static bool install(JSContext* cx, JS::HandleObject native);

  struct Job;

 private:
  static bool native_create(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_create_brotli(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_write_sync(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_write(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_reset(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_params(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_close(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_crc32(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_version(JSContext* cx, unsigned argc, JS::Value* vp);
  static void work(uv_work_t* request);
  static void after_work(uv_work_t* request, int status);

  Runtime& runtime_;
  std::unordered_set<Job*> jobs_;  // on the thread pool; each owned by its request until after_work
};

}  // namespace worker
