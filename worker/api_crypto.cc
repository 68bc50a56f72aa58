#include "worker/api_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sys/random.h>

#include <js/ArrayBuffer.h>
#include <js/Array.h>
#include <js/experimental/TypedData.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "worker/js_util.h"
#include "worker/runtime.h"

namespace worker {
namespace {

bool fill_random(std::span<uint8_t> out) {
  while (!out.empty()) {
    ssize_t n = getrandom(out.data(), out.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out = out.subspan(static_cast<size_t>(n));
  }
  return true;
}

// getRandomValues(integerTypedArray): validation (type, 65536-byte quota) is
// done by the JavaScript wrapper, which throws the DOMExceptions Node throws.
bool get_random_values(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !JS_IsArrayBufferViewObject(&args[0].toObject())) {
    return throw_type_error(cx, "getRandomValues: an integer TypedArray is required");
  }
  bool ok;
  {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    get_bytes(&args[0].toObject(), bytes, nogc);
    ok = fill_random(bytes);
  }
  if (!ok) {
    JS_ReportErrorASCII(cx, "getRandomValues: the kernel random source failed");
    return false;
  }
  args.rval().set(args[0]);
  return true;
}

bool random_uuid(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  uint8_t b[16];
  if (!fill_random(b)) {
    JS_ReportErrorASCII(cx, "randomUUID: the kernel random source failed");
    return false;
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char text[37];
  snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  JSString* result = JS_NewStringCopyN(cx, text, 36);
  if (!result) return false;
  args.rval().setString(result);
  return true;
}

// --- Argument helpers --------------------------------------------------------------
// The JavaScript side (worker/js/crypto.js) validates every argument with
// Node's errors; these checks only keep bad calls from reaching OpenSSL.

bool copy_bytes(JSContext* cx, JS::HandleValue value, std::vector<uint8_t>& out) {
  bool ok = false;
  if (value.isObject()) {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    ok = get_bytes(&value.toObject(), bytes, nogc);
    if (ok) out.assign(bytes.begin(), bytes.end());
  }
  if (!ok) return throw_type_error(cx, "crypto: bytes are required");
  return true;
}

bool ascii_argument(JSContext* cx, JS::HandleValue value, std::string& out) {
  if (!value.isString()) return throw_type_error(cx, "crypto: a name is required");
  out = string_to_utf8(cx, value.toString());
  return true;
}

bool size_argument(JSContext* cx, JS::HandleValue value, uint64_t limit, uint64_t& out) {
  if (!value.isNumber() || !(value.toNumber() >= 0) || value.toNumber() > static_cast<double>(limit)) {
    return throw_type_error(cx, "crypto: a size in range is required");
  }
  out = static_cast<uint64_t>(value.toNumber());
  return true;
}

bool return_buffer(JSContext* cx, JS::CallArgs& args, std::span<const uint8_t> bytes) {
  JSObject* buffer = new_array_buffer_copy(cx, bytes);
  if (!buffer) return false;
  args.rval().setObject(*buffer);
  return true;
}

std::string openssl_error_text() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return {};
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Digest names as Node resolves them (OpenSSL's names and aliases, case
// insensitive), only from the default provider.
const EVP_MD* find_digest(const std::string& name) {
  const EVP_MD* md = EVP_get_digestbyname(name.c_str());
  ERR_clear_error();
  return md;
}

// --- Hash and HMAC objects -------------------------------------------------------------
// Each lives in a JS object whose finalizer frees the OpenSSL context.

struct FreeMdCtx {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct FreeMacCtx {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
struct FreeMac {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, FreeMdCtx>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, FreeMacCtx>;

struct HashState {
  MdCtx ctx;
  size_t output_length = 0;  // for XOFs (shake*), what digest() returns
};

struct HmacState {
  MacCtx ctx;
};

template <typename State>
void finalize_state(JS::GCContext*, JSObject* object) {
  delete JS::GetMaybePtrFromReservedSlot<State>(object, 0);
}

const JSClassOps kHashOps = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                             finalize_state<HashState>, nullptr, nullptr, nullptr};
const JSClass kHashClass = {"NativeHash", JSCLASS_HAS_RESERVED_SLOTS(1) | JSCLASS_FOREGROUND_FINALIZE, &kHashOps,
                            nullptr, nullptr, nullptr};
const JSClassOps kHmacOps = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                             finalize_state<HmacState>, nullptr, nullptr, nullptr};
const JSClass kHmacClass = {"NativeHmac", JSCLASS_HAS_RESERVED_SLOTS(1) | JSCLASS_FOREGROUND_FINALIZE, &kHmacOps,
                            nullptr, nullptr, nullptr};

template <typename State>
State* state_of(JSContext* cx, JS::HandleValue value, const JSClass* clasp) {
  if (!value.isObject() || JS::GetClass(&value.toObject()) != clasp) {
    throw_type_error(cx, "crypto: not a hash object");
    return nullptr;
  }
  auto* state = JS::GetMaybePtrFromReservedSlot<State>(&value.toObject(), 0);
  if (state == nullptr) throw_type_error(cx, "crypto: the hash was finalized");
  return state;
}

template <typename State>
bool wrap_state(JSContext* cx, JS::CallArgs& args, const JSClass* clasp, std::unique_ptr<State> state) {
  JSObject* object = JS_NewObject(cx, clasp);
  if (!object) return false;
  JS::SetReservedSlot(object, 0, JS::PrivateValue(state.release()));
  args.rval().setObject(*object);
  return true;
}

// hashNew(name, outputLength | undefined) → hash | null (unknown name) |
// "xof" (an output length a fixed-size digest cannot give).
bool hash_new(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string name;
  if (!ascii_argument(cx, args.get(0), name)) return false;
  const EVP_MD* md = find_digest(name);
  if (md == nullptr) {
    args.rval().setNull();
    return true;
  }
  auto state = std::make_unique<HashState>();
  state->ctx.reset(EVP_MD_CTX_new());
  if (!state->ctx || EVP_DigestInit_ex(state->ctx.get(), md, nullptr) != 1) {
    ERR_clear_error();
    args.rval().setNull();
    return true;
  }
  state->output_length = static_cast<size_t>(EVP_MD_get_size(md));
  if (args.get(1).isNumber()) {
    uint64_t length = 0;
    if (!size_argument(cx, args[1], UINT32_MAX, length)) return false;
    bool xof = (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) != 0;
    if (!xof && length != state->output_length) {
      JSString* marker = JS_NewStringCopyZ(cx, "xof");
      if (!marker) return false;
      args.rval().setString(marker);
      return true;
    }
    state->output_length = static_cast<size_t>(length);
  }
  return wrap_state(cx, args, &kHashClass, std::move(state));
}

// update(state, bytes) for a hash or an HMAC: `feed` is OpenSSL's update
// for its context.
template <typename State, typename Feed>
bool update_state(JSContext* cx, unsigned argc, JS::Value* vp, const JSClass* state_class, Feed feed,
                  const char* failure) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto* state = state_of<State>(cx, args.get(0), state_class);
  if (state == nullptr) return false;
  if (!args.get(1).isObject()) return throw_type_error(cx, "crypto: bytes are required");
  int ok;
  {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    if (!get_bytes(&args[1].toObject(), bytes, nogc)) bytes = {};
    ok = feed(state->ctx.get(), bytes.data(), bytes.size());
  }
  if (ok != 1) return throw_type_error(cx, failure);
  args.rval().setUndefined();
  return true;
}

bool hash_update(JSContext* cx, unsigned argc, JS::Value* vp) {
  return update_state<HashState>(cx, argc, vp, &kHashClass, EVP_DigestUpdate, "crypto: digest update failed");
}

// hashDigest(hash) → ArrayBuffer; the hash object is spent.
bool hash_digest(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto* state = state_of<HashState>(cx, args.get(0), &kHashClass);
  if (state == nullptr) return false;
  std::vector<uint8_t> out(state->output_length);
  bool xof = (EVP_MD_get_flags(EVP_MD_CTX_get0_md(state->ctx.get())) & EVP_MD_FLAG_XOF) != 0;
  int ok;
  if (xof) {
    ok = out.empty() ? 1 : EVP_DigestFinalXOF(state->ctx.get(), out.data(), out.size());
  } else {
    unsigned int length = 0;
    out.resize(EVP_MAX_MD_SIZE);
    ok = EVP_DigestFinal_ex(state->ctx.get(), out.data(), &length);
    out.resize(length);
  }
  delete state;
  JS::SetReservedSlot(&args[0].toObject(), 0, JS::PrivateValue(nullptr));
  if (ok != 1) return throw_type_error(cx, "crypto: digest failed");
  return return_buffer(cx, args, out);
}

bool hash_copy(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto* state = state_of<HashState>(cx, args.get(0), &kHashClass);
  if (state == nullptr) return false;
  auto copy = std::make_unique<HashState>();
  copy->ctx.reset(EVP_MD_CTX_new());
  if (!copy->ctx || EVP_MD_CTX_copy_ex(copy->ctx.get(), state->ctx.get()) != 1) {
    ERR_clear_error();
    return throw_type_error(cx, "crypto: the hash cannot be copied");
  }
  copy->output_length = state->output_length;
  if (args.get(1).isNumber()) {
    uint64_t length = 0;
    if (!size_argument(cx, args[1], UINT32_MAX, length)) return false;
    copy->output_length = static_cast<size_t>(length);
  }
  return wrap_state(cx, args, &kHashClass, std::move(copy));
}

const EVP_MAC* hmac_algorithm() {
  static const std::unique_ptr<EVP_MAC, FreeMac> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

MacCtx new_hmac(const EVP_MD* md, std::span<const uint8_t> key) {
  const EVP_MAC* mac = hmac_algorithm();
  if (mac == nullptr) return nullptr;
  MacCtx ctx(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(mac)));
  if (!ctx) return nullptr;
  std::string digest = EVP_MD_get0_name(md);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_end(),
  };
  // An empty key is a valid HMAC key; OpenSSL wants a non-null pointer.
  static const uint8_t kNoKey = 0;
  if (EVP_MAC_init(ctx.get(), key.empty() ? &kNoKey : key.data(), key.size(), params) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

// hmacNew(name, keyBytes) → hmac | null (unknown or unusable digest).
bool hmac_new(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string name;
  std::vector<uint8_t> key;
  if (!ascii_argument(cx, args.get(0), name) || !copy_bytes(cx, args.get(1), key)) return false;
  const EVP_MD* md = find_digest(name);
  MacCtx ctx = md == nullptr || (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) != 0 ? nullptr : new_hmac(md, key);
  OPENSSL_cleanse(key.data(), key.size());
  if (!ctx) {
    args.rval().setNull();
    return true;
  }
  auto state = std::make_unique<HmacState>();
  state->ctx = std::move(ctx);
  return wrap_state(cx, args, &kHmacClass, std::move(state));
}

bool hmac_update(JSContext* cx, unsigned argc, JS::Value* vp) {
  return update_state<HmacState>(cx, argc, vp, &kHmacClass, EVP_MAC_update, "crypto: HMAC update failed");
}

bool hmac_digest(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto* state = state_of<HmacState>(cx, args.get(0), &kHmacClass);
  if (state == nullptr) return false;
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  size_t length = 0;
  int ok = EVP_MAC_final(state->ctx.get(), out.data(), &length, out.size());
  out.resize(length);
  delete state;
  JS::SetReservedSlot(&args[0].toObject(), 0, JS::PrivateValue(nullptr));
  if (ok != 1) return throw_type_error(cx, "crypto: HMAC failed");
  return return_buffer(cx, args, out);
}

// digestInfo(name) → [outputBytes, blockBytes] | null, for Web Crypto's defaults.
bool digest_info(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string name;
  if (!ascii_argument(cx, args.get(0), name)) return false;
  const EVP_MD* md = find_digest(name);
  if (md == nullptr) {
    args.rval().setNull();
    return true;
  }
  JS::RootedValueArray<2> values(cx);
  values[0].setInt32(EVP_MD_get_size(md));
  values[1].setInt32(EVP_MD_get_block_size(md));
  JSObject* array = JS::NewArrayObject(cx, values);
  if (!array) return false;
  args.rval().setObject(*array);
  return true;
}

bool get_hashes(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::vector<std::string> names;
  EVP_MD_do_all_sorted(
      [](const EVP_MD* md, const char* from, const char*, void* arg) {
        // Only names this build can actually use (not the legacy provider's).
        if (md == nullptr || from == nullptr) return;
        MdCtx ctx(EVP_MD_CTX_new());
        if (ctx && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1) {
          static_cast<std::vector<std::string>*>(arg)->push_back(from);
        }
        ERR_clear_error();
      },
      &names);
  JS::RootedValueVector values(cx);
  for (const auto& name : names) {
    JSString* string = JS_NewStringCopyN(cx, name.data(), name.size());
    if (!string || !values.append(JS::StringValue(string))) return false;
  }
  JSObject* array = JS::NewArrayObject(cx, values);
  if (!array) return false;
  args.rval().setObject(*array);
  return true;
}

bool timing_safe_equal(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !args.get(1).isObject()) return throw_type_error(cx, "crypto: bytes are required");
  bool equal;
  {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> a;
    std::span<uint8_t> b;
    if (!get_bytes(&args[0].toObject(), a, nogc) || !get_bytes(&args[1].toObject(), b, nogc) ||
        a.size() != b.size()) {
      equal = false;
    } else {
      equal = CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
    }
  }
  args.rval().setBoolean(equal);
  return true;
}

// --- Key derivation ----------------------------------------------------------------------
// A job computes on its own copies of the inputs, so it can run on libuv's
// thread pool while JavaScript goes on.

struct KdfJob {
  enum class Kind { pbkdf2, scrypt } kind;
  std::vector<uint8_t> password;
  std::vector<uint8_t> salt;
  const EVP_MD* md = nullptr;
  uint64_t iterations = 0;
  uint64_t n = 0, r = 0, p = 0, maxmem = 0;
  std::vector<uint8_t> out;
  std::string error;

  ~KdfJob() {
    OPENSSL_cleanse(password.data(), password.size());
    OPENSSL_cleanse(out.data(), out.size());
  }

  void run() {
    int ok = 0;
    if (kind == Kind::pbkdf2) {
      ok = PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()), static_cast<int>(password.size()),
                             salt.data(), static_cast<int>(salt.size()), static_cast<int>(iterations), md,
                             static_cast<int>(out.size()), out.data());
    } else {
      ok = EVP_PBE_scrypt(reinterpret_cast<const char*>(password.data()), password.size(), salt.data(),
                          salt.size(), n, r, p, maxmem, out.data(), out.size());
    }
    if (ok != 1) {
      error = openssl_error_text();
      if (error.empty()) error = "key derivation failed";
    }
  }
};

// pbkdf2(password, salt, iterations, keylen, digest) and scrypt(password, salt,
// keylen, N, r, p, maxmem): the arguments checked by crypto.js already.
bool make_job(JSContext* cx, const JS::CallArgs& args, KdfJob::Kind kind, std::unique_ptr<KdfJob>& job) {
  job = std::make_unique<KdfJob>();
  job->kind = kind;
  if (!copy_bytes(cx, args.get(0), job->password) || !copy_bytes(cx, args.get(1), job->salt)) return false;
  uint64_t keylen = 0;
  if (kind == KdfJob::Kind::pbkdf2) {
    std::string digest;
    if (!size_argument(cx, args.get(2), INT32_MAX, job->iterations) ||
        !size_argument(cx, args.get(3), INT32_MAX, keylen) || !ascii_argument(cx, args.get(4), digest)) {
      return false;
    }
    job->md = find_digest(digest);
    if (job->md == nullptr) return throw_type_error(cx, "crypto: unknown digest");
  } else {
    if (!size_argument(cx, args.get(2), INT32_MAX, keylen) || !size_argument(cx, args.get(3), UINT32_MAX, job->n) ||
        !size_argument(cx, args.get(4), UINT32_MAX, job->r) || !size_argument(cx, args.get(5), UINT32_MAX, job->p) ||
        !size_argument(cx, args.get(6), static_cast<uint64_t>(1) << 53, job->maxmem)) {
      return false;
    }
  }
  job->out.resize(keylen);
  return true;
}

bool kdf_sync(JSContext* cx, JS::CallArgs& args, KdfJob::Kind kind) {
  std::unique_ptr<KdfJob> job;
  if (!make_job(cx, args, kind, job)) return false;
  job->run();
  if (!job->error.empty()) return throw_type_error(cx, job->error);
  return return_buffer(cx, args, job->out);
}

bool pbkdf2_sync(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  return kdf_sync(cx, args, KdfJob::Kind::pbkdf2);
}

bool scrypt_sync(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  return kdf_sync(cx, args, KdfJob::Kind::scrypt);
}

// scryptCheck(N, r, p, maxmem) → "" when OpenSSL accepts the parameters, else
// the reason (possibly empty detail: "-").
bool scrypt_check(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  uint64_t n = 0, r = 0, p = 0, maxmem = 0;
  if (!size_argument(cx, args.get(0), UINT32_MAX, n) || !size_argument(cx, args.get(1), UINT32_MAX, r) ||
      !size_argument(cx, args.get(2), UINT32_MAX, p) ||
      !size_argument(cx, args.get(3), static_cast<uint64_t>(1) << 53, maxmem)) {
    return false;
  }
  std::string reason;
  ERR_clear_error();
  if (EVP_PBE_scrypt(nullptr, 0, nullptr, 0, n, r, p, maxmem, nullptr, 0) != 1) {
    reason = openssl_error_text();
    if (reason.empty()) reason = "-";
  }
  JSString* result = JS_NewStringCopyN(cx, reason.data(), reason.size());
  if (!result) return false;
  args.rval().setString(result);
  return true;
}

struct QueuedJob {
  uv_work_t request{};
  Runtime* runtime;
  std::unique_ptr<KdfJob> job;
  JS::PersistentRootedValue callback;
  QueuedJob(Runtime& rt, std::unique_ptr<KdfJob> j, JS::HandleValue cb)
      : runtime(&rt), job(std::move(j)), callback(rt.cx(), cb) {}
};

void after_job(uv_work_t* request, int status) {
  std::unique_ptr<QueuedJob> queued(static_cast<QueuedJob*>(request->data));
  if (status == UV_ECANCELED) return;
  Runtime& runtime = *queued->runtime;
  CallbackScope scope(runtime);
  JSContext* cx = runtime.cx();
  JS::RootedValueArray<2> args(cx);
  if (!queued->job->error.empty()) {
    JSString* error = new_string_from_utf8(cx, queued->job->error);
    if (!error) {
      runtime.report_pending_exception();
      return;
    }
    args[0].setString(error);
  } else {
    JSObject* buffer = new_array_buffer_copy(cx, queued->job->out);
    if (!buffer) {
      runtime.report_pending_exception();
      return;
    }
    args[0].setNull();
    args[1].setObject(*buffer);
  }
  JS::RootedValue callback(cx, queued->callback);
  JS::RootedValue ignored(cx);
  if (!JS::Call(cx, JS::UndefinedHandleValue, callback, args, &ignored)) runtime.report_pending_exception();
}

// pbkdf2Job(..., callback) / scryptJob(..., callback): callback(errorText | null,
// ArrayBuffer) from the loop once the pool has done the work.
bool kdf_queue(JSContext* cx, JS::CallArgs& args, KdfJob::Kind kind, unsigned callback_index) {
  JS::RootedValue callback(cx, args.get(callback_index));
  if (!callback.isObject() || !JS::IsCallable(&callback.toObject())) {
    return throw_type_error(cx, "crypto: a callback is required");
  }
  std::unique_ptr<KdfJob> job;
  if (!make_job(cx, args, kind, job)) return false;
  Runtime& runtime = Runtime::from(cx);
  auto queued = std::make_unique<QueuedJob>(runtime, std::move(job), callback);
  queued->request.data = queued.get();
  int rc = uv_queue_work(
      runtime.loop(), &queued->request,
      [](uv_work_t* request) { static_cast<QueuedJob*>(request->data)->job->run(); }, after_job);
  if (rc != 0) return throw_type_error(cx, std::string("crypto: cannot queue the work: ") + uv_strerror(rc));
  queued.release();  // after_job owns it now
  args.rval().setUndefined();
  return true;
}

bool pbkdf2_job(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  return kdf_queue(cx, args, KdfJob::Kind::pbkdf2, 5);
}

bool scrypt_job(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  return kdf_queue(cx, args, KdfJob::Kind::scrypt, 7);
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("getRandomValues", get_random_values, 1, 0),
    JS_FN("randomUUID", random_uuid, 0, 0),
    JS_FN("hashNew", hash_new, 2, 0),
    JS_FN("hashUpdate", hash_update, 2, 0),
    JS_FN("hashDigest", hash_digest, 1, 0),
    JS_FN("hashCopy", hash_copy, 2, 0),
    JS_FN("hmacNew", hmac_new, 2, 0),
    JS_FN("hmacUpdate", hmac_update, 2, 0),
    JS_FN("hmacDigest", hmac_digest, 1, 0),
    JS_FN("digestInfo", digest_info, 1, 0),
    JS_FN("getHashes", get_hashes, 0, 0),
    JS_FN("timingSafeEqual", timing_safe_equal, 2, 0),
    JS_FN("pbkdf2Sync", pbkdf2_sync, 5, 0),
    JS_FN("pbkdf2Job", pbkdf2_job, 6, 0),
    JS_FN("scryptSync", scrypt_sync, 7, 0),
    JS_FN("scryptJob", scrypt_job, 8, 0),
    JS_FN("scryptCheck", scrypt_check, 4, 0),
    JS_FS_END,
};

}  // namespace

bool install_crypto_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
