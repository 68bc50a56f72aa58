#pragma once
#include <jsapi.h>

namespace worker {
// native.getContext / setContext / queueMicrotask / nextTick / drainMicrotasks:
// the job queue and the async context, seen from JavaScript.
bool install_tasks_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
