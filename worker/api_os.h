#pragma once
#include <jsapi.h>

namespace worker {
// native.osUname / osCpus / osParallelism / osMemory / osIds: what node:os
// (worker/js/os.js) can learn about the machine from inside the sandbox.
bool install_os_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
