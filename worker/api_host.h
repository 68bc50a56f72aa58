#pragma once
#include <jsapi.h>

namespace worker {
// native.registerHooks / reportReady / reportFailed / stopped: the internal
// host module's line to the engine binding and, through it, the supervisor.
bool install_host_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
