#pragma once
#include <jsapi.h>

namespace worker {
// native.segmenterOpen / segmenterNext / segmenterStart / segmenterWordLike:
// ICU break iterators behind Intl.Segmenter (worker/js/intl_segmenter.js),
// which SpiderMonkey 102 lacks.
bool install_intl_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
