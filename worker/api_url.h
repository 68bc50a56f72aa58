#pragma once
#include <jsapi.h>

namespace worker {
// native.domainToASCII(string) → string | null and native.domainToUnicode(string)
// → string: UTS #46 for the URL parser in worker/js/url.js (worker/idna.h).
bool install_url_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
