#include "worker/api_host.h"

#include "common/log.h"
#include "worker/js_util.h"
#include "worker/runtime.h"

namespace worker {
namespace {

constexpr std::pair<const char*, Hook> kHookNames[] = {
    {"start", Hook::start},
    {"connection", Hook::connection},
    {"datagram", Hook::datagram},
    {"stop", Hook::stop},
    {"tcpRead", Hook::tcp_read},
    {"tcpWriteDone", Hook::tcp_write_done},
    {"tcpShutdownDone", Hook::tcp_shutdown_done},
    {"tcpClose", Hook::tcp_close},
    {"storeMessage", Hook::store_message},
    {"storeFailure", Hook::store_failure},
    {"storeRestored", Hook::store_restored},
    {"uncaught", Hook::uncaught},
    {"egressConnected", Hook::egress_connected},
    {"egressLookupDone", Hook::egress_lookup_done},
    {"tlsClientSettled", Hook::tls_client_settled},
    {"fetchEvent", Hook::fetch_event},
};

// registerHooks({ start, connection, ... }): every hook must be a function.
bool register_hooks(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject()) return throw_type_error(cx, "registerHooks: an object is required");
  JS::RootedObject hooks(cx, &args[0].toObject());
  JS::RootedValue function(cx);
  for (const auto& [name, hook] : kHookNames) {
    if (!JS_GetProperty(cx, hooks, name, &function)) return false;
    if (!function.isObject() || !JS::IsCallable(&function.toObject())) {
      return throw_type_error(cx, std::string("registerHooks: hook ") + name + " is not a function");
    }
    Runtime::from(cx).set_hook(hook, function);
  }
  args.rval().setUndefined();
  return true;
}

// reportReady(accessJson): accessJson is "" when the module exports no `access`.
bool report_ready(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Runtime::from(cx).handler_ready(args.get(0).isString() ? to_utf8(cx, args[0]) : std::string());
  args.rval().setUndefined();
  return true;
}

bool report_failed(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  Runtime::from(cx).handler_failed(to_utf8(cx, args.get(0)));
  args.rval().setUndefined();
  return true;
}

// stopped(deadlineMs): close(ctx) has settled, or deadlineMs passed first.
bool stopped(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (args.get(0).isNumber()) {
    common::log::warn("close-deadline")
        .kv("timeout_ms", static_cast<int64_t>(args[0].toNumber()))
        .kv("reason", "close(ctx) had not settled; the worker stops anyway (timeouts.close_ms)");
  }
  Runtime::from(cx).handler_stopped();
  args.rval().setUndefined();
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("registerHooks", register_hooks, 1, 0),
    JS_FN("reportReady", report_ready, 0, 0),
    JS_FN("reportFailed", report_failed, 1, 0),
    JS_FN("stopped", stopped, 1, 0),
    JS_FS_END,
};

}  // namespace

bool install_host_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
