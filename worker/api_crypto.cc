#include "worker/api_crypto.h"

#include <sys/random.h>

#include <js/experimental/TypedData.h>

#include <cerrno>
#include <cstdio>

#include "worker/js_util.h"

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

const JSFunctionSpec kFunctions[] = {
    JS_FN("getRandomValues", get_random_values, 1, 0),
    JS_FN("randomUUID", random_uuid, 0, 0),
    JS_FS_END,
};

}  // namespace

bool install_crypto_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
