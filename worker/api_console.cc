#include "worker/api_console.h"

#include "common/log.h"
#include "worker/js_util.h"

namespace worker {
namespace {

// One console call makes one log line; past this it is cut (at a character
// boundary) and the original size noted.
constexpr size_t kMaxMessageBytes = 16 * 1024;

common::log::Level level_of(JSContext* cx, JS::HandleValue value) {
  auto level = common::log::parse_level(value.isString() ? string_to_utf8(cx, value.toString()) : "");
  return level.value_or(common::log::Level::info);
}

// log(level, text)
bool log(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  auto level = level_of(cx, args.get(0));
  if (common::log::enabled(level)) {
    std::string message = to_utf8(cx, args.get(1));
    common::log::Line line(level, "console");
    if (message.size() <= kMaxMessageBytes) {
      line.kv("msg", message);
    } else {
      size_t cut = kMaxMessageBytes;
      while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
      line.kv("msg", std::string_view(message).substr(0, cut)).kv("msg_bytes", message.size());
    }
  }
  args.rval().setUndefined();
  return true;
}

// logUncaught(event, summary, at, stack, connectionId)
bool log_uncaught(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  common::log::Line line(common::log::Level::error, to_utf8(cx, args.get(0)));
  line.kv("error", to_utf8(cx, args.get(1)));
  if (args.get(2).isString()) line.kv("at", to_utf8(cx, args.get(2)));
  if (args.get(3).isString()) line.kv("stack", to_utf8(cx, args.get(3)));
  if (args.get(4).isNumber()) line.kv("conn", static_cast<uint64_t>(args.get(4).toNumber()));
  args.rval().setUndefined();
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("log", log, 2, 0),
    JS_FN("logUncaught", log_uncaught, 5, 0),
    JS_FS_END,
};

}  // namespace

bool install_console_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
