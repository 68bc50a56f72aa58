#pragma once
#include <jsapi.h>

namespace worker {
// native.log(level, text) and native.logUncaught(...): console output and
// uncaught errors go to the broker's log, one logfmt line each, tagged with the
// handler's name.
bool install_console_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
