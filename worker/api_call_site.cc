#include "worker/api_call_site.h"

#include <string>

#include "worker/js_util.h"
#include "worker/module_loader.h"
#include "worker/runtime.h"

namespace worker {
namespace {

// handlerSource(relativePath) → the file's text, or undefined when it cannot
// be read (gone, outside the folder, not UTF-8 text the engine accepts).
bool handler_source(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setUndefined();
  if (!args.get(0).isString()) return true;
  std::string path = string_to_utf8(cx, args[0].toString());
  std::string contents;
  if (path.empty() || !Runtime::from(cx).modules().read_source(path, contents)) return true;
  JSString* text = new_string_from_utf8(cx, contents);
  if (text == nullptr) {
    JS_ClearPendingException(cx);
    return true;
  }
  args.rval().setString(text);
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("handlerSource", handler_source, 1, 0),
    JS_FS_END,
};

}  // namespace

bool install_call_site_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
