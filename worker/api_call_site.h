#pragma once
#include <jsapi.h>

namespace worker {
// native.handlerSource(relativePath): the current text of a file of the
// handlers folder, for assert's quote of a failed call (worker/js/call_site.js).
bool install_call_site_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
