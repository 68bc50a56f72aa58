#pragma once
#include <jsapi.h>

namespace worker {
// native.getRandomValues(typedArray) and native.randomUUID(), from the
// kernel's CSPRNG (getrandom).
bool install_crypto_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
