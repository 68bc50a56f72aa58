#pragma once
// Small JSAPI helpers shared by the native APIs: string and byte conversions
// and exception descriptions. JSAPI stays inside worker/.

#include <jsapi.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/text_codec.h"

namespace worker {

// Calls `fn(view)` with the string's code units as a basic_string_view of
// unsigned char (Latin-1) or char16_t, without copying. No GC may run inside fn.
template <typename Fn>
bool with_string_chars(JSContext* cx, JSString* string, Fn&& fn) {
  JSLinearString* linear = JS_EnsureLinearString(cx, string);
  if (linear == nullptr) return false;
  JS::AutoCheckCannotGC nogc;
  size_t length = JS::GetLinearStringLength(linear);
  if (JS::LinearStringHasLatin1Chars(linear)) {
    const JS::Latin1Char* chars = JS::GetLatin1LinearStringChars(nogc, linear);
    fn(std::basic_string_view<unsigned char>(chars, length));
  } else {
    const char16_t* chars = JS::GetTwoByteLinearStringChars(nogc, linear);
    fn(std::u16string_view(chars, length));
  }
  return true;
}

// UTF-8 text of a value via ToString; lone surrogates become U+FFFD. Never
// throws into JS: on failure the pending exception is cleared and "" returned.
std::string to_utf8(JSContext* cx, JS::HandleValue value);
std::string string_to_utf8(JSContext* cx, JSString* string);

JSString* new_string_from_utf8(JSContext* cx, std::string_view utf8);
JSString* new_string_from_decoded(JSContext* cx, const common::text::DecodedText& text);
// Decodes bytes that no GC can move (not a JavaScript buffer's contents):
// ASCII and Latin-1 go into the string in one copy.
JSString* new_string_from_bytes(JSContext* cx, std::span<const uint8_t> bytes, common::text::Encoding encoding);

// The bytes of an ArrayBufferView or ArrayBuffer; false for anything else.
// The span is only valid until the next GC.
bool get_bytes(JSObject* object, std::span<uint8_t>& out, const JS::AutoCheckCannotGC& nogc);

JSObject* new_array_buffer_copy(JSContext* cx, std::span<const uint8_t> bytes);
JSObject* new_uint8_array_copy(JSContext* cx, std::span<const uint8_t> bytes);

// "file:line:column" of an exception value (an Error's own location), or "".
std::string exception_location(JSContext* cx, JS::HandleValue exception);
// "Name: message" of an exception value, or its ToString for non-errors.
std::string exception_summary(JSContext* cx, JS::HandleValue exception);

// Throws a JS TypeError with `message`; returns false for native functions to return.
bool throw_type_error(JSContext* cx, std::string_view message);

}  // namespace worker
