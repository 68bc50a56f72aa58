#include "worker/api_types.h"

#include <js/Object.h>
#include <js/Proxy.h>
#include <jsfriendapi.h>

namespace worker {
namespace {

// classOf(value) → the name of the object's engine class ("Map", "Map
// Iterator", "Generator", "Arguments", "Number", "RangeError", "Uint8Array",
// "Proxy", ...), or undefined for a primitive. A proxy is a proxy whatever
// its target, as in V8. A bound function is "BoundFunction" (V8 gives it a
// type of its own; SpiderMonkey 102 keeps it a Function with a flag).
bool class_of(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject()) {
    args.rval().setUndefined();
    return true;
  }
  JSObject* object = &args[0].toObject();
  JSFunction* function = JS_GetObjectFunction(object);
  const char* class_name = function != nullptr && JS_IsFunctionBound(function) ? "BoundFunction"
                                                                                : JS::GetClass(object)->name;
  JSString* name = JS_NewStringCopyZ(cx, class_name);
  if (name == nullptr) return false;
  args.rval().setString(name);
  return true;
}

// isProxy(value) → whether value was made by `new Proxy` (or Proxy.revocable).
// The engine's own proxies (module namespaces) are not.
bool is_proxy(JSContext*, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setBoolean(args.get(0).isObject() && js::IsScriptedProxy(&args[0].toObject()));
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("classOf", class_of, 1, 0),
    JS_FN("isProxy", is_proxy, 1, 0),
    JS_FS_END,
};

}  // namespace

bool install_types_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
