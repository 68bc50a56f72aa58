#include "worker/api_clone.h"

#include <js/StructuredClone.h>

namespace worker {
namespace {

bool structured_clone(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JS::RootedValue input(cx, args.get(0));
  JS::RootedValue output(cx);
  if (!JS_StructuredClone(cx, input, &output, nullptr, nullptr)) return false;
  args.rval().set(output);
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("structuredClone", structured_clone, 1, 0),
    JS_FS_END,
};

}  // namespace

bool install_clone_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
