#pragma once
#include <jsapi.h>

namespace worker {
// native.encodeString / encodeInto / utf8EncodeInto / decodeString / byteLength:
// the byte conversions behind Buffer, TextEncoder/TextDecoder and setEncoding.
bool install_encoding_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
