#include "worker/js_util.h"

#include <js/ArrayBuffer.h>
#include <js/Conversions.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/experimental/TypedData.h>
#include <js/String.h>

#include <cstring>
#include <vector>

namespace worker {

std::string string_to_utf8(JSContext* cx, JSString* string) {
  std::string out;
  bool ok = with_string_chars(cx, string, [&](auto chars) {
    out.resize(common::text::encoded_length(chars, common::text::Encoding::utf8));
    common::text::encode(chars, common::text::Encoding::utf8,
                         std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  });
  if (!ok) JS_ClearPendingException(cx);
  return out;
}

std::string to_utf8(JSContext* cx, JS::HandleValue value) {
  JS::RootedString string(cx, JS::ToString(cx, value));
  if (!string) {
    JS_ClearPendingException(cx);
    return {};
  }
  return string_to_utf8(cx, string);
}

JSString* new_string_from_utf8(JSContext* cx, std::string_view utf8) {
  return new_string_from_bytes(cx, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size()),
                               common::text::Encoding::utf8);
}

JSString* new_string_from_bytes(JSContext* cx, std::span<const uint8_t> bytes, common::text::Encoding encoding) {
  using common::text::Encoding;
  bool one_byte_per_char = encoding == Encoding::latin1 ||
                           ((encoding == Encoding::utf8 || encoding == Encoding::ascii) && common::text::is_ascii(bytes));
  if (one_byte_per_char) return JS_NewStringCopyN(cx, reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return new_string_from_decoded(cx, common::text::decode(bytes, encoding));
}

JSString* new_string_from_decoded(JSContext* cx, const common::text::DecodedText& text) {
  if (text.is_latin1) {
    // JS_NewStringCopyN takes Latin-1 bytes, one per character.
    return JS_NewStringCopyN(cx, text.latin1.data(), text.latin1.size());
  }
  return JS_NewUCStringCopyN(cx, text.utf16.data(), text.utf16.size());
}

bool get_bytes(JSObject* object, std::span<uint8_t>& out, const JS::AutoCheckCannotGC& nogc) {
  bool is_shared = false;
  if (JS_IsArrayBufferViewObject(object)) {
    auto* data = static_cast<uint8_t*>(JS_GetArrayBufferViewData(object, &is_shared, nogc));
    out = std::span<uint8_t>(data, JS_GetArrayBufferViewByteLength(object));
    return true;
  }
  if (JS::IsArrayBufferObject(object)) {
    uint8_t* data = JS::GetArrayBufferData(object, &is_shared, nogc);
    out = std::span<uint8_t>(data, JS::GetArrayBufferByteLength(object));
    return true;
  }
  return false;
}

JSObject* new_array_buffer_copy(JSContext* cx, std::span<const uint8_t> bytes) {
  JS::RootedObject buffer(cx, JS::NewArrayBuffer(cx, bytes.size()));
  if (!buffer) return nullptr;
  if (!bytes.empty()) {
    JS::AutoCheckCannotGC nogc;
    bool is_shared = false;
    std::memcpy(JS::GetArrayBufferData(buffer, &is_shared, nogc), bytes.data(), bytes.size());
  }
  return buffer;
}

JSObject* new_uint8_array_copy(JSContext* cx, std::span<const uint8_t> bytes) {
  JS::RootedObject buffer(cx, new_array_buffer_copy(cx, bytes));
  if (!buffer) return nullptr;
  return JS_NewUint8ArrayWithBuffer(cx, buffer, 0, static_cast<int64_t>(bytes.size()));
}

std::string exception_location(JSContext* cx, JS::HandleValue exception) {
  if (!exception.isObject()) return {};
  JS::RootedObject object(cx, &exception.toObject());
  JSErrorReport* report = JS_ErrorFromException(cx, object);
  if (report == nullptr || report->filename == nullptr) return {};
  // Errors made for a file as a whole (a failed import) have no line.
  if (report->lineno == 0) return report->filename;
  return std::string(report->filename) + ":" + std::to_string(report->lineno) + ":" + std::to_string(report->column + 1);
}

std::string exception_summary(JSContext* cx, JS::HandleValue exception) {
  if (exception.isObject()) {
    // "SyntaxError: expected expression, got ';'": the error's own name and
    // message (the engine's report message lacks the name).
    JS::RootedObject object(cx, &exception.toObject());
    JS::RootedValue name(cx);
    JS::RootedValue message(cx);
    if (JS_GetProperty(cx, object, "name", &name) && JS_GetProperty(cx, object, "message", &message) &&
        name.isString() && message.isString()) {
      return to_utf8(cx, name) + ": " + to_utf8(cx, message);
    }
    JS_ClearPendingException(cx);
  }
  return to_utf8(cx, exception);
}

bool throw_type_error(JSContext* cx, std::string_view message) {
  JS::RootedString text(cx, new_string_from_utf8(cx, message));
  if (!text) return false;
  JS::RootedString file(cx, JS_GetEmptyString(cx));
  JS::Rooted<mozilla::Maybe<JS::Value>> no_cause(cx, mozilla::Nothing());
  JS::RootedValue error(cx);
  if (JS::CreateError(cx, JSEXN_TYPEERR, nullptr, file, 0, 0, nullptr, text, no_cause, &error)) {
    JS_SetPendingException(cx, error);
  }
  return false;
}

}  // namespace worker
