#pragma once
#include <jsapi.h>

namespace worker {
// native.structuredClone(value): the engine's own structured clone algorithm.
bool install_clone_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
