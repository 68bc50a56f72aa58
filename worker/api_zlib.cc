#include "worker/api_zlib.h"

#include <js/ArrayBuffer.h>
#include <js/Array.h>
#include <js/experimental/TypedData.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <vector>

#include "common/log.h"
#include "worker/job_queue.h"
#include "worker/js_util.h"
#include "worker/runtime.h"
#include "worker/zlib_engine.h"

namespace worker {
namespace {

using compression::BrotliEngine;
using compression::Engine;
using compression::Error;
using compression::Mode;
using compression::ZlibEngine;

// One library call's output space at most: a step asking for more (a very
// large chunkSize) is run as several calls, and memory follows what is
// produced, not what was asked for.
constexpr size_t kMaxCallBytes = 4 * 1024 * 1024;
constexpr size_t kBrotliParamCount = 10;

// What a handle object owns. The engine is shared with a step on the thread
// pool, so it outlives the handle if the handle goes first.
struct Holder {
  std::shared_ptr<Engine> engine;
  ZlibEngine* zlib = nullptr;  // the engine again, when it is a zlib one (params())
  bool busy = false;           // a step is on the thread pool
  bool close_pending = false;  // close() came during that step
};

void finalize_handle(JS::GCContext*, JSObject* object) { delete JS::GetMaybePtrFromReservedSlot<Holder>(object, 0); }

const JSClassOps kHandleOps = {
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, finalize_handle, nullptr, nullptr, nullptr,
};
const JSClass kHandleClass = {"ZlibHandle", JSCLASS_HAS_RESERVED_SLOTS(1) | JSCLASS_FOREGROUND_FINALIZE,
                              &kHandleOps, nullptr, nullptr, nullptr};

Holder* holder_of(JS::HandleValue value) {
  if (!value.isObject() || JS::GetClass(&value.toObject()) != &kHandleClass) return nullptr;
  return JS::GetMaybePtrFromReservedSlot<Holder>(&value.toObject(), 0);
}

// A usable handle: not closed, no step running.
Holder* idle_holder(JSContext* cx, JS::HandleValue value) {
  Holder* holder = holder_of(value);
  if (holder == nullptr) {
    throw_type_error(cx, "zlib: not a zlib handle");
    return nullptr;
  }
  if (holder->busy) {
    throw_type_error(cx, "zlib: a write is in progress");
    return nullptr;
  }
  if (!holder->engine) {
    throw_type_error(cx, "zlib: the handle is closed");
    return nullptr;
  }
  return holder;
}

bool int_arg(JSContext* cx, const JS::CallArgs& args, unsigned index, int min, int max, int& out) {
  if (!args.get(index).isNumber()) return throw_type_error(cx, "zlib: a number argument is required");
  double value = args[index].toNumber();
  if (!(value >= min && value <= max)) return throw_type_error(cx, "zlib: a number argument is out of range");
  out = static_cast<int>(value);
  return true;
}

bool size_arg(JSContext* cx, const JS::CallArgs& args, unsigned index, size_t& out) {
  if (!args.get(index).isNumber()) return throw_type_error(cx, "zlib: a size argument is required");
  double value = args[index].toNumber();
  if (!(value >= 0 && value <= 9007199254740991.0)) return throw_type_error(cx, "zlib: a size is out of range");
  out = static_cast<size_t>(value);
  return true;
}

struct Step {
  std::vector<uint8_t> output;
  size_t avail_in = 0;
  size_t avail_out = 0;
  std::optional<Error> error;
};

// One step as Node's binding runs it: the engine fills up to `limit` bytes.
void run_step(Engine& engine, int flush, std::span<const uint8_t> in, size_t limit, Step& step) {
  size_t produced = 0;
  try {
    for (;;) {
      size_t space = std::min(limit - produced, kMaxCallBytes);
      step.output.resize(produced + space);
      engine.write(flush, in, std::span<uint8_t>(step.output.data() + produced, space));
      produced += space - engine.avail_out();
      in = in.subspan(in.size() - engine.avail_in());
      if (auto error = engine.error()) {
        step.error = std::move(error);
        break;
      }
      // Space left over: the library wants more input, or the stream ended.
      if (engine.avail_out() != 0 || produced == limit) break;
    }
  } catch (const std::bad_alloc&) {
    step.error = Error{"Cannot allocate memory for the output", "Z_MEM_ERROR", -4};
  }
  step.output.resize(produced);
  step.avail_in = in.size();
  step.avail_out = limit - produced;
}

// [message, code, errno] for a failure, [availOut, availIn, ArrayBuffer | null] otherwise.
bool step_value(JSContext* cx, const Step& step, JS::MutableHandleValue out) {
  JS::RootedValueArray<3> items(cx);
  if (step.error) {
    JSString* message = new_string_from_utf8(cx, step.error->message);
    if (message == nullptr) return false;
    items[0].setString(message);
    JSString* code = new_string_from_utf8(cx, step.error->code);
    if (code == nullptr) return false;
    items[1].setString(code);
    items[2].setInt32(step.error->errno_value);
  } else {
    items[0].setNumber(static_cast<double>(step.avail_out));
    items[1].setNumber(static_cast<double>(step.avail_in));
    if (step.output.empty()) {
      items[2].setNull();
    } else {
      JSObject* bytes = new_array_buffer_copy(cx, step.output);
      if (bytes == nullptr) return false;
      items[2].setObject(*bytes);
    }
  }
  JSObject* array = JS::NewArrayObject(cx, items);
  if (array == nullptr) return false;
  out.setObject(*array);
  return true;
}

bool error_value(JSContext* cx, const std::optional<Error>& error, JS::MutableHandleValue out) {
  if (!error) {
    out.setUndefined();
    return true;
  }
  Step step;
  step.error = error;
  return step_value(cx, step, out);
}

JSObject* new_handle(JSContext* cx, std::unique_ptr<Holder> holder) {
  JS::RootedObject object(cx, JS_NewObject(cx, &kHandleClass));
  if (!object) return nullptr;
  JS::SetReservedSlot(object, 0, JS::PrivateValue(holder.release()));
  return object;
}

}  // namespace

// A step on the thread pool. The input is copied in (JavaScript's buffers
// may move or change meanwhile); the output comes back as a new ArrayBuffer.
struct ZlibBinding::Job {
  Job(JSContext* cx, ZlibBinding* owner) : binding(owner), handle(cx), callback(cx), context(cx) {}
  uv_work_t request{};
  ZlibBinding* binding;  // null once the binding is gone
  std::shared_ptr<Engine> engine;
  int flush = 0;
  std::vector<uint8_t> input;
  size_t limit = 0;
  Step step;
  JS::PersistentRootedObject handle;
  JS::PersistentRootedValue callback;
  JS::PersistentRootedValue context;
};

ZlibBinding::ZlibBinding(Runtime& runtime) : runtime_(runtime) {}

ZlibBinding::~ZlibBinding() {
  for (Job* job : jobs_) {
    job->binding = nullptr;
    job->handle.reset();
    job->callback.reset();
    job->context.reset();
    uv_cancel(reinterpret_cast<uv_req_t*>(&job->request));
  }
  jobs_.clear();
}

// zlibCreate(mode, windowBits, level, memLevel, strategy, dictionary | undefined)
bool ZlibBinding::native_create(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  int mode;
  int window_bits;
  int level;
  int mem_level;
  int strategy;
  if (!int_arg(cx, args, 0, static_cast<int>(Mode::deflate), static_cast<int>(Mode::unzip), mode) ||
      !int_arg(cx, args, 1, 0, 15, window_bits) || !int_arg(cx, args, 2, -1, 9, level) ||
      !int_arg(cx, args, 3, 1, 9, mem_level) || !int_arg(cx, args, 4, 0, 4, strategy)) {
    return false;
  }
  auto m = static_cast<Mode>(mode);
  bool inflating = m == Mode::inflate || m == Mode::gunzip || m == Mode::unzip;
  if (window_bits < 8 && !(window_bits == 0 && inflating)) return throw_type_error(cx, "zlib: windowBits out of range");
  std::vector<uint8_t> dictionary;
  if (args.get(5).isObject()) {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    if (!get_bytes(&args[5].toObject(), bytes, nogc)) {
      return throw_type_error(cx, "zlib: the dictionary must be bytes");
    }
    dictionary.assign(bytes.begin(), bytes.end());
  }
  auto holder = std::make_unique<Holder>();
  auto engine = std::make_shared<ZlibEngine>(m, window_bits, level, mem_level, strategy, std::move(dictionary));
  holder->zlib = engine.get();
  holder->engine = std::move(engine);
  JSObject* object = new_handle(cx, std::move(holder));
  if (object == nullptr) return false;
  args.rval().setObject(*object);
  return true;
}

// brotliCreate(mode, Uint32Array params): 0xFFFFFFFF leaves a parameter
// unset, as Node's binding does. null when brotli refuses a parameter.
bool ZlibBinding::native_create_brotli(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  int mode;
  if (!int_arg(cx, args, 0, static_cast<int>(Mode::brotli_decode), static_cast<int>(Mode::brotli_encode), mode)) {
    return false;
  }
  if (!args.get(1).isObject() || !JS_IsUint32Array(&args[1].toObject())) {
    return throw_type_error(cx, "zlib: brotli parameters must be a Uint32Array");
  }
  std::vector<int64_t> params;
  {
    JS::AutoCheckCannotGC nogc;
    bool is_shared = false;
    size_t length = JS_GetTypedArrayLength(&args[1].toObject());
    const uint32_t* data = JS_GetUint32ArrayData(&args[1].toObject(), &is_shared, nogc);
    for (size_t i = 0; i < std::min(length, kBrotliParamCount); ++i) {
      params.push_back(data[i] == UINT32_MAX ? -1 : static_cast<int64_t>(data[i]));
    }
  }
  auto engine = BrotliEngine::create(static_cast<Mode>(mode), params);
  if (!engine) {
    args.rval().setNull();
    return true;
  }
  auto holder = std::make_unique<Holder>();
  holder->engine = std::shared_ptr<Engine>(std::move(engine));
  JSObject* object = new_handle(cx, std::move(holder));
  if (object == nullptr) return false;
  args.rval().setObject(*object);
  return true;
}

// The input range of a write: (input, inOff, inLen) must lie inside input.
static bool input_range(JSContext* cx, const JS::CallArgs& args, unsigned index, size_t& offset, size_t& length) {
  if (!args.get(index).isObject()) return throw_type_error(cx, "zlib: the input must be bytes");
  if (!size_arg(cx, args, index + 1, offset) || !size_arg(cx, args, index + 2, length)) return false;
  JS::AutoCheckCannotGC nogc;
  std::span<uint8_t> bytes;
  if (!get_bytes(&args[index].toObject(), bytes, nogc)) return throw_type_error(cx, "zlib: the input must be bytes");
  if (offset > bytes.size() || length > bytes.size() - offset) return throw_type_error(cx, "zlib: input range out of bounds");
  return true;
}

// A step's arguments, as both write forms take them: (handle, flush, input,
// inOff, inLen, outLen). The holder, or null with an exception pending.
struct StepArgs {
  int flush = 0;
  size_t offset = 0;
  size_t length = 0;
  size_t limit = 0;
};

static Holder* read_step_args(JSContext* cx, const JS::CallArgs& args, StepArgs& out) {
  Holder* holder = idle_holder(cx, args.get(0));
  if (holder == nullptr || !int_arg(cx, args, 1, 0, 5, out.flush) || !input_range(cx, args, 2, out.offset, out.length) ||
      !size_arg(cx, args, 5, out.limit)) {
    return nullptr;
  }
  return holder;
}

// zlibWriteSync(handle, flush, input, inOff, inLen, outLen) → a step's result.
bool ZlibBinding::native_write_sync(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  StepArgs step_args;
  Holder* holder = read_step_args(cx, args, step_args);
  if (holder == nullptr) return false;
  auto [flush, offset, length, limit] = step_args;
  Step step;
  {
    // No JavaScript runs during the step, so the input cannot move.
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    get_bytes(&args[2].toObject(), bytes, nogc);
    run_step(*holder->engine, flush, std::span<const uint8_t>(bytes.data() + offset, length), limit, step);
  }
  return step_value(cx, step, args.rval());
}

// zlibWrite(handle, flush, input, inOff, inLen, outLen, callback): the step
// runs on the thread pool; callback(result) runs on the loop, in the
// async context current now.
bool ZlibBinding::native_write(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  StepArgs step_args;
  Holder* holder = read_step_args(cx, args, step_args);
  if (holder == nullptr) return false;
  auto [flush, offset, length, limit] = step_args;
  if (!args.get(6).isObject() || !JS::IsCallable(&args[6].toObject())) {
    return throw_type_error(cx, "zlib: a callback is required");
  }
  Runtime& runtime = Runtime::from(cx);
  ZlibBinding& self = runtime.zlib();
  auto job = std::make_unique<Job>(cx, &self);
  try {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    get_bytes(&args[2].toObject(), bytes, nogc);
    job->input.assign(bytes.begin() + static_cast<ptrdiff_t>(offset),
                      bytes.begin() + static_cast<ptrdiff_t>(offset + length));
  } catch (const std::bad_alloc&) {
    JS_ReportOutOfMemory(cx);
    return false;
  }
  job->engine = holder->engine;
  job->flush = flush;
  job->limit = limit;
  job->handle = &args[0].toObject();
  job->callback = args[6];
  job->context = runtime.jobs().current_context();
  job->request.data = job.get();
  if (int rc = uv_queue_work(runtime.loop(), &job->request, &ZlibBinding::work, &ZlibBinding::after_work); rc != 0) {
    JS_ReportErrorASCII(cx, "zlib: cannot queue work: %s", uv_strerror(rc));
    return false;
  }
  holder->busy = true;
  self.jobs_.insert(job.release());
  args.rval().setUndefined();
  return true;
}

void ZlibBinding::work(uv_work_t* request) {
  auto* job = static_cast<Job*>(request->data);
  run_step(*job->engine, job->flush, job->input, job->limit, job->step);
}

void ZlibBinding::after_work(uv_work_t* request, int status) {
  std::unique_ptr<Job> job(static_cast<Job*>(request->data));
  ZlibBinding* self = job->binding;
  if (self == nullptr) return;  // the runtime is gone
  self->jobs_.erase(job.get());
  Runtime& runtime = self->runtime_;
  JSContext* cx = runtime.cx();
  JS::RootedObject handle(cx, job->handle);
  JS::RootedValue handle_value(cx, JS::ObjectValue(*handle));
  Holder* holder = holder_of(handle_value);
  if (holder != nullptr) {
    holder->busy = false;
    if (holder->close_pending) holder->engine.reset();
  }
  if (status == UV_ECANCELED) {
    job->step = Step{};
    job->step.error = Error{"The operation was cancelled", "Z_STREAM_ERROR", -2};
  }
  job->input.clear();
  job->input.shrink_to_fit();
  CallbackScope scope(runtime);
  JS::RootedValue result(cx);
  if (!step_value(cx, job->step, &result)) {
    runtime.report_pending_exception();
    return;
  }
  JS::RootedValue callback(cx, job->callback);
  JS::RootedValueArray<2> call_args(cx);
  call_args[0].set(result);
  call_args[1].set(job->context);
  job->step.output.clear();
  JS::RootedValue ignored(cx);
  if (!JS::Call(cx, JS::UndefinedHandleValue, callback, call_args, &ignored)) runtime.report_pending_exception();
}

// zlibReset(handle) → undefined, or [message, code, errno].
bool ZlibBinding::native_reset(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Holder* holder = idle_holder(cx, args.get(0));
  if (holder == nullptr) return false;
  return error_value(cx, holder->engine->reset(), args.rval());
}

// zlibParams(handle, level, strategy) → undefined, or [message, code, errno].
bool ZlibBinding::native_params(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Holder* holder = idle_holder(cx, args.get(0));
  if (holder == nullptr) return false;
  int level;
  int strategy;
  if (!int_arg(cx, args, 1, -1, 9, level) || !int_arg(cx, args, 2, 0, 4, strategy)) return false;
  if (holder->zlib == nullptr) return throw_type_error(cx, "zlib: params() is for zlib streams");
  return error_value(cx, holder->zlib->params(level, strategy), args.rval());
}

// zlibClose(handle): frees the engine now, or when the running step ends.
bool ZlibBinding::native_close(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Holder* holder = holder_of(args.get(0));
  if (holder == nullptr) return throw_type_error(cx, "zlib: not a zlib handle");
  if (holder->busy) {
    holder->close_pending = true;
  } else {
    holder->engine.reset();
    holder->zlib = nullptr;
  }
  args.rval().setUndefined();
  return true;
}

// zlibCrc32(bytes, value) → the crc32 continued over bytes.
bool ZlibBinding::native_crc32(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !args.get(1).isNumber()) return throw_type_error(cx, "zlib: crc32(bytes, value)");
  auto value = static_cast<uint32_t>(args[1].toNumber());
  uint32_t crc;
  {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    if (!get_bytes(&args[0].toObject(), bytes, nogc)) return throw_type_error(cx, "zlib: crc32 needs bytes");
    crc = compression::crc32(bytes, value);
  }
  args.rval().setNumber(static_cast<double>(crc));
  return true;
}

bool ZlibBinding::native_version(JSContext* cx, unsigned argc, JS::Value* vp) {
  (void)cx;
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setInt32(compression::zlib_version_number());
  return true;
}

bool ZlibBinding::install(JSContext* cx, JS::HandleObject native) {
  static const JSFunctionSpec functions[] = {
      JS_FN("zlibCreate", native_create, 6, 0),
      JS_FN("brotliCreate", native_create_brotli, 2, 0),
      JS_FN("zlibWriteSync", native_write_sync, 6, 0),
      JS_FN("zlibWrite", native_write, 7, 0),
      JS_FN("zlibReset", native_reset, 1, 0),
      JS_FN("zlibParams", native_params, 3, 0),
      JS_FN("zlibClose", native_close, 1, 0),
      JS_FN("zlibCrc32", native_crc32, 2, 0),
      JS_FN("zlibVersionNumber", native_version, 0, 0),
      JS_FS_END,
  };
  return JS_DefineFunctions(cx, native, functions);
}

}  // namespace worker
