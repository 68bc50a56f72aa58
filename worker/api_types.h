#pragma once
#include <jsapi.h>

namespace worker {
// native.classOf(value) / native.isProxy(value): the engine's own knowledge of
// what an object is, behind util.types (worker/js/util_types.js), which a
// prototype or Symbol.toStringTag cannot fake.
bool install_types_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
