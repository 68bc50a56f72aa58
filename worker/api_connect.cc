#include "worker/api_connect.h"

#include <js/Array.h>

#include "common/log.h"
#include "worker/api_tcp.h"
#include "worker/js_util.h"
#include "worker/runtime.h"
#include "worker/supervisor_link.h"

namespace worker {

uint32_t EgressBinding::next_request_id() {
  uint32_t id = next_request_++;
  if (next_request_ == 0) next_request_ = 1;
  return id;
}

bool EgressBinding::connect_native(const std::string& host, uint16_t port, NativeConnectDone done) {
  if (native_connects_.size() >= kMaxOutstanding || host.empty() || host.size() > ipc::kMaxEgressHostBytes || port == 0) {
    return false;
  }
  uint32_t id = next_request_id();
  native_connects_.emplace(id, std::move(done));
  runtime_.link().send(ipc::encode(ipc::EgressConnect{id, host, port}));
  return true;
}

bool EgressBinding::native_connect(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString() || !args.get(1).isNumber()) {
    return throw_type_error(cx, "egressConnect: host and port expected");
  }
  EgressBinding& self = Runtime::from(cx).egress();
  std::string host = to_utf8(cx, args[0]);
  double port = args[1].toNumber();
  if (self.connects_.size() >= kMaxOutstanding || host.empty() || host.size() > ipc::kMaxEgressHostBytes ||
      !(port >= 1 && port <= 65535)) {
    args.rval().setInt32(0);
    return true;
  }
  uint32_t id = self.next_request_id();
  self.connects_.insert(id);
  self.runtime_.link().send(ipc::encode(ipc::EgressConnect{id, host, static_cast<uint16_t>(port)}));
  args.rval().setNumber(id);
  return true;
}

bool EgressBinding::native_lookup(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString() || !args.get(1).isNumber()) {
    return throw_type_error(cx, "egressLookup: host and family expected");
  }
  EgressBinding& self = Runtime::from(cx).egress();
  std::string host = to_utf8(cx, args[0]);
  double family = args[1].toNumber();
  if (self.lookups_.size() >= kMaxOutstanding || host.empty() || host.size() > ipc::kMaxEgressHostBytes ||
      !(family == 0 || family == 4 || family == 6)) {
    args.rval().setInt32(0);
    return true;
  }
  uint32_t id = self.next_request_id();
  self.lookups_.insert(id);
  self.runtime_.link().send(ipc::encode(ipc::EgressLookup{id, host, static_cast<uint8_t>(family)}));
  args.rval().setNumber(id);
  return true;
}

bool EgressBinding::native_tls_connect(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isNumber() || !args.get(1).isString()) {
    return throw_type_error(cx, "tlsConnect: connection id and options expected");
  }
  EgressBinding& self = Runtime::from(cx).egress();
  TlsClientOptions options;
  std::string error;
  std::unique_ptr<TlsSession> session;
  if (TlsClientOptions::parse(to_utf8(cx, args[1]), options, error)) {
    session = self.tls_contexts_.new_session(options, error);
  }
  if (session) self.runtime_.tcp().start_client_tls(static_cast<uint32_t>(args[0].toNumber()), std::move(session), error);
  JSString* text = new_string_from_utf8(cx, error);
  if (text == nullptr) return false;
  args.rval().setString(text);
  return true;
}

void EgressBinding::on_connected(const ipc::EgressConnected& answer, std::vector<common::UniqueFd>& fds) {
  if (auto it = native_connects_.find(answer.request_id); it != native_connects_.end()) {
    NativeConnectDone done = std::move(it->second);
    native_connects_.erase(it);
    common::UniqueFd socket;
    if (answer.code.empty() && fds.size() == 1) socket = std::move(fds[0]);
    done(answer, std::move(socket));
    return;
  }
  // An answer to nothing asked (or asked twice) is ignored, and its socket closed.
  if (connects_.erase(answer.request_id) == 0) {
    common::log::error("malformed-supervisor-message").kv("type", "egress_connected");
    return;
  }
  uint32_t connection = 0;
  if (answer.code.empty() && fds.size() == 1) {
    connection = runtime_.tcp().open_outbound(std::move(fds[0]));
  }
  std::string code = answer.code.empty() && connection == 0 ? "EMFILE" : answer.code;
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  JS::RootedValueArray<6> args(cx);
  args[0].setNumber(answer.request_id);
  args[1].setNumber(connection);
  args[4].setNumber(answer.remote.valid() ? answer.remote.port() : 0);
  const std::pair<int, std::string> strings[] = {
      {2, code},
      {3, answer.remote.valid() ? answer.remote.ip() : ""},
      {5, answer.remote.valid() ? std::string(answer.remote.family_name()) : ""}};
  for (const auto& [index, text] : strings) {
    JSString* value = new_string_from_utf8(cx, text);
    if (value == nullptr) {
      runtime_.report_pending_exception();
      if (connection != 0) runtime_.tcp().bind_socket(connection, nullptr);
      return;
    }
    args[static_cast<size_t>(index)].setString(value);
  }
  JS::RootedValue socket(cx);
  bool called = runtime_.call_hook(Hook::egress_connected, args, &socket);
  if (connection != 0) runtime_.tcp().bind_socket(connection, called && socket.isObject() ? &socket.toObject() : nullptr);
}

void EgressBinding::on_lookup_result(const ipc::EgressLookupResult& answer) {
  if (lookups_.erase(answer.request_id) == 0) {
    common::log::error("malformed-supervisor-message").kv("type", "egress_lookup_result");
    return;
  }
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  JS::RootedValueArray<3> args(cx);
  args[0].setNumber(answer.request_id);
  JS::RootedObject list(cx, JS::NewArrayObject(cx, 0));
  if (list == nullptr) return runtime_.report_pending_exception();
  JS::RootedValue item(cx);
  uint32_t index = 0;
  for (const auto& address : answer.addresses) {
    JSString* text = new_string_from_utf8(cx, address.ip());
    if (text == nullptr) return runtime_.report_pending_exception();
    item.setString(text);
    if (!JS_SetElement(cx, list, index++, item)) return runtime_.report_pending_exception();
  }
  JSString* code = new_string_from_utf8(cx, answer.code);
  if (code == nullptr) return runtime_.report_pending_exception();
  args[1].setString(code);
  args[2].setObject(*list);
  runtime_.call_hook(Hook::egress_lookup_done, args);
}

bool EgressBinding::install(JSContext* cx, JS::HandleObject native) {
  static const JSFunctionSpec functions[] = {
      JS_FN("egressConnect", native_connect, 2, 0),
      JS_FN("egressLookup", native_lookup, 2, 0),
      JS_FN("tlsConnect", native_tls_connect, 2, 0),
      JS_FS_END,
  };
  return JS_DefineFunctions(cx, native, functions);
}

}  // namespace worker
