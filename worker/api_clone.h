#pragma once
#include <jsapi.h>

namespace worker {
// native.structuredClone(value): the engine's own structured clone algorithm;
// native.detachArrayBuffer(buffer): a transferred buffer's end.
bool install_clone_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
