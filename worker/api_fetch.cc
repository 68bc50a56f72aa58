#include "worker/api_fetch.h"

#include <js/Array.h>
#include <js/Conversions.h>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "worker/api_connect.h"
#include "worker/js_util.h"
#include "worker/runtime.h"

namespace worker {
namespace {

// The request as fetch.js describes it; false if it does not hold together.
bool parse_request(const std::string& text, HttpRequest& request) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json["url"].is_string() || !json["method"].is_string() || !json["headers"].is_array()) {
    return false;
  }
  request.url = json["url"].get<std::string>();
  request.method = json["method"].get<std::string>();
  for (const auto& pair : json["headers"]) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) return false;
    std::string name = pair[0].get<std::string>();
    std::string value = pair[1].get<std::string>();
    // Headers (fetch_types.js) already refuses these; a line break here would
    // add a header or a request of its own on the wire.
    if (name.empty() || name.find_first_of(std::string_view(":\r\n\0", 4)) != std::string::npos ||
        value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return false;
    }
    request.headers.emplace_back(std::move(name), std::move(value));
  }
  request.has_body = json.value("hasBody", false);
  request.body_length = json.value("bodyLength", int64_t{-1});
  return true;
}

}  // namespace

FetchBinding::FetchBinding(Runtime& runtime, std::unique_ptr<CurlMulti> multi)
    : runtime_(runtime), transfers_(runtime.loop(), std::move(multi), [this](HttpEvent& event) { deliver(event); }) {}

// fetchStart(host, port, requestJson) → id, or 0 when too many are under way.
bool FetchBinding::native_start(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString() || !args.get(1).isNumber() || !args.get(2).isString()) {
    return throw_type_error(cx, "fetchStart: host, port and request expected");
  }
  FetchBinding& self = Runtime::from(cx).fetch();
  std::string host = to_utf8(cx, args[0]);
  double port = args[1].toNumber();
  HttpRequest request;
  if (!parse_request(to_utf8(cx, args[2]), request)) return throw_type_error(cx, "fetchStart: malformed request");
  if (!(port >= 1 && port <= 65535)) return throw_type_error(cx, "fetchStart: bad port");
  if (self.connecting_.size() + self.transfers_.active() >= kMaxFetches) {
    args.rval().setInt32(0);
    return true;
  }
  uint32_t id = self.next_id_++;
  if (self.next_id_ == 0) self.next_id_ = 1;
  request.port = static_cast<uint16_t>(port);
  bool asked = self.runtime_.egress().connect_native(
      host, request.port, [&self, id](const ipc::EgressConnected& answer, common::UniqueFd socket) {
        self.connected(id, answer.code, answer.remote.valid() ? answer.remote.ip() : "", std::move(socket));
      });
  if (!asked) {
    args.rval().setInt32(0);
    return true;
  }
  self.connecting_.emplace(id, std::move(request));
  args.rval().setNumber(id);
  return true;
}

void FetchBinding::connected(uint32_t id, const std::string& code, const std::string& address,
                             common::UniqueFd socket) {
  auto it = connecting_.find(id);
  if (it == connecting_.end()) return;
  HttpRequest request = std::move(it->second);
  connecting_.erase(it);
  if (request.url.empty()) return;  // aborted while connecting: the socket closes here
  if (!code.empty() || !socket) {
    HttpEvent refused{HttpEvent::Kind::connect_failed, id};
    refused.code = code.empty() ? "EMFILE" : code;
    return deliver(refused);
  }
  request.address = address;
  std::string error;
  if (!transfers_.start(id, request, std::move(socket), error)) {
    HttpEvent event{HttpEvent::Kind::done, id};
    event.code = "UND_ERR";
    event.message = error;
    deliver(event);
  }
}

void FetchBinding::deliver(HttpEvent& event) {
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  JS::RootedValueArray<5> args(cx);
  args[0].setNumber(event.id);
  auto set_string = [&](size_t index, const std::string& text) {
    JSString* value = new_string_from_utf8(cx, text);
    if (value == nullptr) return false;
    args[index].setString(value);
    return true;
  };
  bool ok = true;
  switch (event.kind) {
    case HttpEvent::Kind::headers: {
      ok = set_string(1, "headers") && set_string(3, event.status_text);
      args[2].setInt32(event.status);
      JS::RootedObject list(cx, JS::NewArrayObject(cx, 0));
      JS::RootedValue item(cx);
      uint32_t index = 0;
      ok = ok && list != nullptr;
      for (const auto& [name, value] : event.header_list) {
        if (!ok) break;
        for (const std::string* text : {&name, &value}) {
          // Header bytes as Latin-1 code units, as undici gives them.
          JSString* string = JS_NewStringCopyN(cx, text->data(), text->size());
          ok = string != nullptr;
          if (!ok) break;
          item.setString(string);
          ok = JS_SetElement(cx, list, index++, item);
          if (!ok) break;
        }
      }
      if (ok) args[4].setObject(*list);
      break;
    }
    case HttpEvent::Kind::data: {
      ok = set_string(1, "data");
      JSObject* chunk = ok ? new_array_buffer_copy(cx, event.bytes) : nullptr;
      ok = chunk != nullptr;
      if (ok) args[2].setObject(*chunk);
      break;
    }
    case HttpEvent::Kind::body_wanted:
      ok = set_string(1, "pull");
      break;
    case HttpEvent::Kind::connect_failed:
      ok = set_string(1, "connect-failed") && set_string(2, event.code);
      break;
    case HttpEvent::Kind::done:
      ok = set_string(1, "done") && set_string(2, event.code) && set_string(3, event.message);
      break;
  }
  if (!ok) {
    runtime_.report_pending_exception();
    transfers_.abort(event.id);
    return;
  }
  runtime_.call_hook(Hook::fetch_event, args);
}

// fetchWrite(id, bytes | null): request body; null ends it.
bool FetchBinding::native_write(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isNumber()) return throw_type_error(cx, "fetchWrite: id expected");
  FetchBinding& self = Runtime::from(cx).fetch();
  uint32_t id = static_cast<uint32_t>(args[0].toNumber());
  args.rval().setUndefined();
  if (args.get(1).isNull()) {
    self.transfers_.send_body(id, {}, true);
    return true;
  }
  if (!args.get(1).isObject()) return throw_type_error(cx, "fetchWrite: Uint8Array or null expected");
  std::vector<uint8_t> copy;
  {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> bytes;
    if (!get_bytes(&args[1].toObject(), bytes, nogc)) return throw_type_error(cx, "fetchWrite: Uint8Array expected");
    copy.assign(bytes.begin(), bytes.end());
  }
  // Outside the no-GC scope: sending may deliver events to JavaScript.
  self.transfers_.send_body(id, copy, false);
  return true;
}

bool FetchBinding::native_pause(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isNumber()) return throw_type_error(cx, "fetchPause: id expected");
  Runtime::from(cx).fetch().transfers_.pause_response(static_cast<uint32_t>(args[0].toNumber()),
                                                      JS::ToBoolean(args.get(1)));
  args.rval().setUndefined();
  return true;
}

bool FetchBinding::native_abort(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isNumber()) return throw_type_error(cx, "fetchAbort: id expected");
  FetchBinding& self = Runtime::from(cx).fetch();
  uint32_t id = static_cast<uint32_t>(args[0].toNumber());
  if (auto it = self.connecting_.find(id); it != self.connecting_.end()) {
    it->second.url.clear();  // the answer's socket is closed unused
  } else {
    self.transfers_.abort(id);
  }
  args.rval().setUndefined();
  return true;
}

bool FetchBinding::install(JSContext* cx, JS::HandleObject native) {
  static const JSFunctionSpec functions[] = {
      JS_FN("fetchStart", native_start, 3, 0),
      JS_FN("fetchWrite", native_write, 2, 0),
      JS_FN("fetchPause", native_pause, 2, 0),
      JS_FN("fetchAbort", native_abort, 1, 0),
      JS_FS_END,
  };
  return JS_DefineFunctions(cx, native, functions);
}

}  // namespace worker
