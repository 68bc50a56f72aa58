#include "worker/api_clone.h"

#include <js/ArrayBuffer.h>
#include <js/Conversions.h>
#include <js/Exception.h>
#include <js/StructuredClone.h>
#include <jsfriendapi.h>

#include <array>

#include "worker/js_util.h"

namespace worker {
namespace {

// SpiderMonkey 102 cannot clone Error objects; Node can. Errors travel as a
// custom tag: the standard type (from `name`, else Error), message, stack and a
// cloned cause, which is what V8's serializer keeps.
constexpr uint32_t kErrorTag = JS_SCTAG_USER_MIN + 1;
constexpr uint32_t kHasMessage = 1;
constexpr uint32_t kHasStack = 2;
constexpr uint32_t kHasCause = 4;

struct ErrorType {
  const char* name;
  JSExnType type;
};
constexpr std::array<ErrorType, 7> kErrorTypes = {{
    {"Error", JSEXN_ERR},
    {"EvalError", JSEXN_EVALERR},
    {"RangeError", JSEXN_RANGEERR},
    {"ReferenceError", JSEXN_REFERENCEERR},
    {"SyntaxError", JSEXN_SYNTAXERR},
    {"TypeError", JSEXN_TYPEERR},
    {"URIError", JSEXN_URIERR},
}};

// Causes are cloned by a nested structured clone and parked here until the
// read side picks them up by index (one JS_StructuredClone writes, then reads).
// The errors being written are kept too: a cause chain that loops back, or
// runs deeper than kMaxCauseDepth, is refused instead of recursing forever.
constexpr size_t kMaxCauseDepth = 64;

struct CloneState {
  explicit CloneState(JSContext* cx) : causes(cx), writing(cx) {}
  JS::RootedValueVector causes;
  JS::RootedObjectVector writing;
};

const JSStructuredCloneCallbacks* callbacks();

bool get_string_property(JSContext* cx, JS::HandleObject object, const char* name, JS::MutableHandleString out,
                         bool& present) {
  bool own = false;
  if (!JS_HasOwnProperty(cx, object, name, &own)) return false;
  JS::RootedValue value(cx);
  if (!JS_GetProperty(cx, object, name, &value)) return false;
  present = own || value.isString();
  if (!present) return true;
  JSString* text = JS::ToString(cx, value);
  if (!text) return false;
  out.set(text);
  return true;
}

bool write_error(JSContext* cx, JSStructuredCloneWriter* writer, JS::HandleObject error, CloneState& state) {
  JS::RootedString name(cx);
  JS::RootedString message(cx, JS_GetEmptyString(cx));
  JS::RootedString stack(cx, JS_GetEmptyString(cx));
  bool has_name = false;
  bool has_message = false;
  bool has_stack = false;
  if (!get_string_property(cx, error, "name", &name, has_name) ||
      !get_string_property(cx, error, "message", &message, has_message) ||
      !get_string_property(cx, error, "stack", &stack, has_stack)) {
    return false;
  }
  uint32_t type_index = 0;
  if (has_name) {
    std::string text = string_to_utf8(cx, name);
    for (uint32_t i = 0; i < kErrorTypes.size(); ++i) {
      if (text == kErrorTypes[i].name) type_index = i;
    }
  }
  bool has_cause = false;
  if (!JS_HasOwnProperty(cx, error, "cause", &has_cause)) return false;
  uint32_t cause_index = 0;
  if (has_cause) {
    for (JSObject* in_progress : state.writing) {
      if (in_progress == error) {
        JS_ReportErrorASCII(cx, "an Error whose cause chain loops back to itself could not be cloned.");
        return false;
      }
    }
    if (state.writing.length() >= kMaxCauseDepth) {
      JS_ReportErrorASCII(cx, "an Error cause chain deeper than %zu could not be cloned.", kMaxCauseDepth);
      return false;
    }
    JS::RootedValue cause(cx);
    JS::RootedValue cloned(cx);
    if (!state.writing.append(error)) return false;
    bool ok = JS_GetProperty(cx, error, "cause", &cause) && JS_StructuredClone(cx, cause, &cloned, callbacks(), &state);
    state.writing.popBack();
    if (!ok) return false;
    cause_index = static_cast<uint32_t>(state.causes.length());
    if (!state.causes.append(cloned)) return false;
  }
  uint32_t flags = (has_message ? kHasMessage : 0) | (has_stack ? kHasStack : 0) | (has_cause ? kHasCause : 0);
  return JS_WriteUint32Pair(writer, kErrorTag, type_index) && JS_WriteUint32Pair(writer, flags, cause_index) &&
         JS_WriteString(writer, message) && JS_WriteString(writer, stack);
}

JSObject* read_error(JSContext* cx, JSStructuredCloneReader* reader, uint32_t type_index, CloneState& state) {
  uint32_t flags = 0;
  uint32_t cause_index = 0;
  JS::RootedString message(cx);
  JS::RootedString stack(cx);
  if (type_index >= kErrorTypes.size() || !JS_ReadUint32Pair(reader, &flags, &cause_index) ||
      !JS_ReadString(reader, &message) || !JS_ReadString(reader, &stack)) {
    return nullptr;
  }
  JS::Rooted<mozilla::Maybe<JS::Value>> cause(cx);
  if ((flags & kHasCause) != 0 && cause_index < state.causes.length()) cause = mozilla::Some(state.causes[cause_index].get());
  JS::RootedString file(cx, JS_GetEmptyString(cx));
  JS::RootedValue error(cx);
  if (!JS::CreateError(cx, kErrorTypes[type_index].type, nullptr, file, 0, 0, nullptr, message, cause, &error)) {
    return nullptr;
  }
  JS::RootedObject object(cx, &error.toObject());
  if ((flags & kHasMessage) == 0 && !JS_DeleteProperty(cx, object, "message")) return nullptr;
  if ((flags & kHasStack) != 0 && !JS_DefineProperty(cx, object, "stack", stack, JSPROP_RESOLVING)) return nullptr;
  return object;
}

bool on_write(JSContext* cx, JSStructuredCloneWriter* writer, JS::HandleObject object, bool*, void* closure) {
  js::ESClass cls;
  if (!JS::GetBuiltinClass(cx, object, &cls)) return false;
  if (cls == js::ESClass::Error) return write_error(cx, writer, object, *static_cast<CloneState*>(closure));
  JS_ReportErrorASCII(cx, "%s could not be cloned.", JS::IsCallable(object) ? "function" : "object");
  return false;
}

JSObject* on_read(JSContext* cx, JSStructuredCloneReader* reader, const JS::CloneDataPolicy&, uint32_t tag,
                  uint32_t data, void* closure) {
  if (tag == kErrorTag) return read_error(cx, reader, data, *static_cast<CloneState*>(closure));
  JS_ReportErrorASCII(cx, "unknown structured clone tag");
  return nullptr;
}

const JSStructuredCloneCallbacks* callbacks() {
  static const JSStructuredCloneCallbacks instance = {on_read, on_write, nullptr, nullptr, nullptr,
                                                      nullptr, nullptr, nullptr};
  return &instance;
}

bool structured_clone(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JS::RootedValue input(cx, args.get(0));
  JS::RootedValue output(cx);
  CloneState state(cx);
  if (!JS_StructuredClone(cx, input, &output, callbacks(), &state)) return false;
  args.rval().set(output);
  return true;
}

// detachArrayBuffer(buffer): what structuredClone's `transfer` leaves of a
// buffer it moved (the clone has a copy): detached, byteLength 0, its views
// empty. globals.js has checked that it is an ArrayBuffer.
bool detach_array_buffer(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !JS::IsArrayBufferObject(&args[0].toObject())) {
    JS_ReportErrorASCII(cx, "detachArrayBuffer: not an ArrayBuffer");
    return false;
  }
  JS::RootedObject buffer(cx, &args[0].toObject());
  if (!JS::DetachArrayBuffer(cx, buffer)) return false;
  args.rval().setUndefined();
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("structuredClone", structured_clone, 1, 0),
    JS_FN("detachArrayBuffer", detach_array_buffer, 1, 0),
    JS_FS_END,
};

}  // namespace

bool install_clone_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
