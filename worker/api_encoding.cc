#include "worker/api_encoding.h"

#include <js/ArrayBuffer.h>
#include <js/Array.h>
#include <js/experimental/TypedData.h>

#include <algorithm>
#include <cmath>

#include "worker/js_util.h"

namespace worker {
namespace {

using common::text::Encoding;

bool read_encoding(JSContext* cx, JS::HandleValue value, Encoding& out) {
  if (value.isUndefined()) {
    out = Encoding::utf8;
    return true;
  }
  if (!value.isString()) return throw_type_error(cx, "encoding must be a string");
  std::string name = string_to_utf8(cx, value.toString());
  auto parsed = common::text::parse_encoding(name);
  if (!parsed) return throw_type_error(cx, "Unknown encoding: " + name);
  out = *parsed;
  return true;
}

bool read_index(JS::HandleValue value, size_t limit, size_t fallback, size_t& out) {
  if (!value.isNumber()) {
    out = fallback;
    return true;
  }
  double number = value.toNumber();
  if (std::isnan(number) || number < 0) number = 0;
  out = static_cast<size_t>(std::min(number, static_cast<double>(limit)));
  return true;
}

// encodeString(string, encoding) → Uint8Array holding the whole string.
bool encode_string(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString()) return throw_type_error(cx, "encodeString: a string is required");
  Encoding encoding;
  if (!read_encoding(cx, args.get(1), encoding)) return false;
  JS::RootedString text(cx, args[0].toString());
  size_t length = 0;
  if (!with_string_chars(cx, text, [&](auto chars) { length = common::text::encoded_length(chars, encoding); })) {
    return false;
  }
  JS::RootedObject array(cx, JS_NewUint8Array(cx, length));
  if (!array) return false;
  bool ok = with_string_chars(cx, text, [&](auto chars) {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> out;
    get_bytes(array, out, nogc);
    common::text::encode(chars, encoding, out);
  });
  if (!ok) return false;
  args.rval().setObject(*array);
  return true;
}

// encodeInto(string, encoding, target, offset, maxBytes) → bytes written.
bool encode_into(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString() || !args.get(2).isObject()) {
    return throw_type_error(cx, "encodeInto: (string, encoding, Uint8Array, offset, length) expected");
  }
  Encoding encoding;
  if (!read_encoding(cx, args.get(1), encoding)) return false;
  JS::RootedString text(cx, args[0].toString());
  JS::RootedObject target(cx, &args[2].toObject());
  size_t written = 0;
  bool ok = with_string_chars(cx, text, [&](auto chars) {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> out;
    if (!get_bytes(target, out, nogc)) return;
    size_t offset = 0;
    size_t max_bytes = 0;
    read_index(args.get(3), out.size(), 0, offset);
    read_index(args.get(4), out.size() - offset, out.size() - offset, max_bytes);
    written = common::text::encode(chars, encoding, out.subspan(offset, max_bytes));
  });
  if (!ok) return false;
  args.rval().setNumber(static_cast<double>(written));
  return true;
}

// utf8EncodeInto(string, target) → [code units read, bytes written].
bool utf8_encode_into(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString() || !args.get(1).isObject()) {
    return throw_type_error(cx, "utf8EncodeInto: (string, Uint8Array) expected");
  }
  JS::RootedString text(cx, args[0].toString());
  JS::RootedObject target(cx, &args[1].toObject());
  size_t read = 0;
  size_t written = 0;
  bool ok = with_string_chars(cx, text, [&](auto chars) {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> out;
    if (get_bytes(target, out, nogc)) written = common::text::encode(chars, Encoding::utf8, out, &read);
  });
  if (!ok) return false;
  JS::RootedValueArray<2> pair(cx);
  pair[0].setNumber(static_cast<double>(read));
  pair[1].setNumber(static_cast<double>(written));
  JSObject* result = JS::NewArrayObject(cx, pair);
  if (!result) return false;
  args.rval().setObject(*result);
  return true;
}

// decodeString(bytes, start, end, encoding) → string.
bool decode_string(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject()) return throw_type_error(cx, "decodeString: a Uint8Array is required");
  Encoding encoding;
  if (!read_encoding(cx, args.get(3), encoding)) return false;
  common::text::DecodedText decoded;
  bool is_bytes;
  {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    is_bytes = get_bytes(&args[0].toObject(), bytes, nogc);
    if (is_bytes) {
      size_t start = 0;
      size_t end = 0;
      read_index(args.get(1), bytes.size(), 0, start);
      read_index(args.get(2), bytes.size(), bytes.size(), end);
      if (end < start) end = start;
      decoded = common::text::decode(bytes.subspan(start, end - start), encoding);
    }
  }
  if (!is_bytes) return throw_type_error(cx, "decodeString: a Uint8Array is required");
  JSString* result = new_string_from_decoded(cx, decoded);
  if (!result) return false;
  args.rval().setString(result);
  return true;
}

// byteLength(string, encoding) → number of bytes encodeString would produce.
bool byte_length(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString()) return throw_type_error(cx, "byteLength: a string is required");
  Encoding encoding;
  if (!read_encoding(cx, args.get(1), encoding)) return false;
  size_t length = 0;
  if (!with_string_chars(cx, args[0].toString(),
                         [&](auto chars) { length = common::text::encoded_length(chars, encoding); })) {
    return false;
  }
  args.rval().setNumber(static_cast<double>(length));
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("encodeString", encode_string, 2, 0),
    JS_FN("encodeInto", encode_into, 5, 0),
    JS_FN("utf8EncodeInto", utf8_encode_into, 2, 0),
    JS_FN("decodeString", decode_string, 4, 0),
    JS_FN("byteLength", byte_length, 2, 0),
    JS_FS_END,
};

}  // namespace

bool install_encoding_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
