#include "worker/api_store.h"

#include <js/Array.h>
#include <js/Promise.h>

#include "common/log.h"
#include "ipc/messages.h"
#include "worker/js_util.h"
#include "worker/runtime.h"
#include "worker/supervisor_link.h"

namespace worker {
namespace {

struct WriteRequest {
  uv_write_t request{};
  std::string bytes;
};

constexpr size_t kMaxPendingInput = 64 * 1024 * 1024;

// The code a handler tests for when the store cannot answer: the store
// process is restarting, or (with Redis/Valkey behind the store relay) the
// backend is down. The relay says so with an UNAVAILABLE error reply.
constexpr const char* kUnavailableCode = "ERR_STORE_UNAVAILABLE";
constexpr std::string_view kUnavailableReply = "UNAVAILABLE ";

// An Error with `message` and, when given, an enumerable `code` (as Node's
// errors from C++ carry one).
bool make_error(JSContext* cx, const std::string& message, const char* code, JS::MutableHandleValue out) {
  JS::RootedString text(cx, new_string_from_utf8(cx, message));
  JS::RootedString file(cx, JS_GetEmptyString(cx));
  JS::Rooted<mozilla::Maybe<JS::Value>> no_cause(cx, mozilla::Nothing());
  if (!text || !JS::CreateError(cx, JSEXN_ERR, nullptr, file, 0, 0, nullptr, text, no_cause, out)) return false;
  if (code == nullptr) return true;
  JS::RootedObject error(cx, &out.toObject());
  JS::RootedString code_text(cx, JS_NewStringCopyZ(cx, code));
  return code_text && JS_DefineProperty(cx, error, "code", code_text, JSPROP_ENUMERATE);
}

std::string unavailable_message(std::string_view reason) {
  return "ctx.shared: the shared store is unavailable (" + std::string(reason) + ")";
}

}  // namespace

StoreBinding::StoreBinding(Runtime& runtime) : runtime_(runtime) {}

StoreBinding::~StoreBinding() {
  waiting_.clear();
}

bool StoreBinding::attach(common::UniqueFd command_fd, common::UniqueFd subscription_fd, std::string& error) {
  auto open_link = [&](Link& link, common::UniqueFd fd, uv_read_cb read_callback) {
    if (int rc = link.pipe.init(uv_pipe_init, runtime_.loop(), 0); rc != 0) {
      error = std::string("store connection: ") + uv_strerror(rc);
      return false;
    }
    link.pipe->data = this;
    if (int rc = uv_pipe_open(link.pipe.get(), fd.get()); rc != 0) {
      error = std::string("store connection: ") + uv_strerror(rc);
      return false;
    }
    fd.release();
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(link.pipe.get()),
        [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
          static thread_local char buffer[64 * 1024];
          (void)suggested;
          *buf = uv_buf_init(buffer, sizeof buffer);
        },
        read_callback);
    link.open = true;
    return true;
  };
  return open_link(command_, std::move(command_fd),
                   [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) { on_read(s, n, b, true); }) &&
         open_link(subscription_, std::move(subscription_fd),
                   [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) { on_read(s, n, b, false); });
}

void StoreBinding::reattach(common::UniqueFd command_fd, common::UniqueFd subscription_fd) {
  // The old connections may not have reported their end yet; the new ones
  // are here, so nothing more is asked for.
  fail("the shared store restarted", false);
  command_ = Link{};
  subscription_ = Link{};
  subscribes_unanswered_.clear();
  std::string error;
  if (!attach(std::move(command_fd), std::move(subscription_fd), error)) {
    common::log::error("store-reconnect-failed").kv("reason", error);
    return;
  }
  failed_ = false;
  common::log::info("store-reconnected");
  CallbackScope scope(runtime_);
  runtime_.call_hook(Hook::store_restored, JS::HandleValueArray::empty());
}

void StoreBinding::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf, bool command) {
  auto* self = static_cast<StoreBinding*>(stream->data);
  if (self == nullptr || nread == 0) return;
  if (nread < 0) {
    self->fail(nread == UV_EOF ? "the shared store closed the connection" : uv_strerror(static_cast<int>(nread)));
    return;
  }
  Link& link = command ? self->command_ : self->subscription_;
  link.input.append(buf->base, static_cast<size_t>(nread));
  if (link.input.size() > kMaxPendingInput) {
    self->fail("the shared store sent an oversized reply");
    return;
  }
  if (command) {
    self->on_command_input();
  } else {
    self->on_subscription_input();
  }
}

bool StoreBinding::send(Link& link, std::string bytes) {
  if (!link.open) return false;
  // Pipelined and batched: requests go out together when the callback ends.
  link.output += bytes;
  if (runtime_.callback_depth == 0) flush(link);
  return true;
}

void StoreBinding::flush() {
  flush(command_);
  flush(subscription_);
}

void StoreBinding::flush(Link& link) {
  if (!link.open || link.output.empty()) return;
  std::string bytes = std::exchange(link.output, {});
  auto* stream = reinterpret_cast<uv_stream_t*>(link.pipe.get());
  size_t written = 0;
  if (uv_stream_get_write_queue_size(stream) == 0) {
    uv_buf_t buf = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
    int rc = uv_try_write(stream, &buf, 1);
    if (rc >= 0) {
      written = static_cast<size_t>(rc);
    } else if (rc != UV_EAGAIN) {
      return;  // the store is gone: reading sees it and fails the waiting requests
    }
  }
  if (written == bytes.size()) return;
  auto request = std::make_unique<WriteRequest>();
  request->bytes = bytes.substr(written);
  uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  int rc = uv_write(&request->request, stream, &buf, 1,
                    [](uv_write_t* r, int) { std::unique_ptr<WriteRequest> done(reinterpret_cast<WriteRequest*>(r)); });
  if (rc != 0) return;
  request.release();
}

bool StoreBinding::to_js(const ipc::resp::Value& reply, JS::MutableHandleValue out) {
  JSContext* cx = runtime_.cx();
  using Type = ipc::resp::Value::Type;
  switch (reply.type) {
    case Type::null: out.setNull(); return true;
    case Type::integer: out.setNumber(static_cast<double>(reply.integer)); return true;
    case Type::simple_string:
    case Type::bulk_string:
    case Type::error: {
      JSString* text = new_string_from_utf8(cx, reply.text);
      if (!text) return false;
      out.setString(text);
      return true;
    }
    case Type::array: {
      JS::RootedObject array(cx, JS::NewArrayObject(cx, reply.elements.size()));
      if (!array) return false;
      JS::RootedValue element(cx);
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        // Defined, not set: handler code may have put setters on Array.prototype.
        if (!to_js(reply.elements[i], &element) ||
            !JS_DefineElement(cx, array, static_cast<uint32_t>(i), element, JSPROP_ENUMERATE)) {
          return false;
        }
      }
      out.setObject(*array);
      return true;
    }
  }
  return false;
}


bool StoreBinding::resolve_next(const ipc::resp::Value& reply) {
  if (waiting_.empty()) return false;
  JSContext* cx = runtime_.cx();
  JS::RootedObject promise(cx, *waiting_.front());
  waiting_.pop_front();
  JS::RootedValue value(cx);
  if (!to_js(reply, &value)) {
    // The caller must not wait forever: reject with what went wrong.
    JS::RootedValue reason(cx);
    if (!JS_GetPendingException(cx, &reason)) reason.setUndefined();
    JS_ClearPendingException(cx);
    if (!JS::RejectPromise(cx, promise, reason)) runtime_.report_pending_exception();
    return true;
  }
  if (reply.type == ipc::resp::Value::Type::error) {
    JS::RootedValue error(cx);
    bool unavailable = std::string_view(reply.text).starts_with(kUnavailableReply);
    std::string text = unavailable ? unavailable_message(std::string_view(reply.text).substr(kUnavailableReply.size()))
                                   : "shared store: " + reply.text;
    if (!make_error(cx, text, unavailable ? kUnavailableCode : nullptr, &error) || !JS::RejectPromise(cx, promise, error)) {
      runtime_.report_pending_exception();
    }
    return true;
  }
  if (!JS::ResolvePromise(cx, promise, value)) runtime_.report_pending_exception();
  return true;
}

void StoreBinding::on_command_input() {
  CallbackScope scope(runtime_);
  size_t offset = 0;
  while (offset < command_.input.size()) {
    ipc::resp::Value reply;
    size_t consumed = 0;
    std::string error;
    auto status = ipc::resp::parse_value(std::string_view(command_.input).substr(offset), limits_, reply, consumed, error);
    if (status == ipc::resp::ParseStatus::incomplete) break;
    if (status == ipc::resp::ParseStatus::error || !resolve_next(reply)) {
      command_.input.clear();
      fail(status == ipc::resp::ParseStatus::error ? "malformed reply from the shared store: " + error
                                                   : "unexpected reply from the shared store");
      return;
    }
    offset += consumed;
  }
  command_.input.erase(0, offset);
}

void StoreBinding::on_subscription_input() {
  CallbackScope scope(runtime_);
  JSContext* cx = runtime_.cx();
  size_t offset = 0;
  while (offset < subscription_.input.size()) {
    ipc::resp::Value reply;
    size_t consumed = 0;
    std::string error;
    auto status =
        ipc::resp::parse_value(std::string_view(subscription_.input).substr(offset), limits_, reply, consumed, error);
    if (status == ipc::resp::ParseStatus::incomplete) break;
    if (status == ipc::resp::ParseStatus::error) {
      subscription_.input.clear();
      fail("malformed message from the shared store: " + error);
      return;
    }
    offset += consumed;
    SubscriptionEvent event;
    if (!subscription_event(reply, event)) continue;
    // Each string goes straight into the rooted array (a later allocation may
    // move or collect an unrooted one).
    JS::RootedValueArray<3> args(cx);
    const std::string_view texts[] = {event.kind, event.channel, event.payload};
    bool ok = true;
    for (size_t i = 0; i < 3 && ok; ++i) {
      JSString* value = new_string_from_utf8(cx, texts[i]);
      ok = value != nullptr;
      if (ok) args[i].setString(value);
    }
    if (!ok) {
      runtime_.report_pending_exception();
      continue;
    }
    runtime_.call_hook(Hook::store_message, args);
  }
  subscription_.input.erase(0, offset);
}

// ["message", channel, payload] deliveries and ["subscribe"|"unsubscribe",
// channel, count] confirmations come in the order the store sent them; an
// error answers the oldest SUBSCRIBE unanswered (JavaScript hears "refused",
// the channel, the error's text). Anything else is not for JavaScript.
bool StoreBinding::subscription_event(const ipc::resp::Value& reply, SubscriptionEvent& event) {
  using Type = ipc::resp::Value::Type;
  if (reply.type == Type::error) {
    if (subscribes_unanswered_.empty()) return false;
    refused_channel_ = std::move(subscribes_unanswered_.front());
    subscribes_unanswered_.pop_front();
    event = {"refused", refused_channel_, reply.text};
    return true;
  }
  if (reply.type != Type::array || reply.elements.size() != 3) return false;
  const std::string& kind = reply.elements[0].text;
  if (kind == "subscribe") {
    if (!subscribes_unanswered_.empty()) subscribes_unanswered_.pop_front();
  } else if (kind != "message" && kind != "unsubscribe") {
    return false;
  }
  event = {kind, reply.elements[1].text, kind == "message" ? std::string_view(reply.elements[2].text) : ""};
  return true;
}

void StoreBinding::fail(const std::string& reason, bool reconnect) {
  if (failed_) return;
  failed_ = true;
  common::log::error("store-connection-lost").kv("reason", reason);
  // The store may have closed this worker's connection alone (it restarted,
  // or dropped it): the supervisor, which owns the store, gives new ones.
  if (reconnect) runtime_.link().send(ipc::encode(ipc::StoreReconnect{}));
  command_.open = subscription_.open = false;
  if (command_.pipe) uv_read_stop(reinterpret_cast<uv_stream_t*>(command_.pipe.get()));
  if (subscription_.pipe) uv_read_stop(reinterpret_cast<uv_stream_t*>(subscription_.pipe.get()));
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  JS::RootedValueArray<1> args(cx);
  JS::RootedString text(cx, new_string_from_utf8(cx, reason));
  if (!text) {
    runtime_.report_pending_exception();
    return;
  }
  args[0].setString(text);
  // The hook tells the JavaScript side; waiting commands are rejected here.
  runtime_.call_hook(Hook::store_failure, args);
  JS::RootedObject promise(cx);
  JS::RootedValue error(cx);
  if (!make_error(cx, unavailable_message(reason), kUnavailableCode, &error)) {
    runtime_.report_pending_exception();
    error.setString(text);
  }
  while (!waiting_.empty()) {
    promise = *waiting_.front();
    waiting_.pop_front();
    if (JS::GetPromiseState(promise) == JS::PromiseState::Pending && !JS::RejectPromise(cx, promise, error)) {
      runtime_.report_pending_exception();
    }
  }
}

// storeCommand([arg, ...]) → Promise of the reply (string, number, null, array).
bool StoreBinding::native_command(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  StoreBinding& self = Runtime::from(cx).store();
  bool is_array = false;
  if (!args.get(0).isObject() || !JS::IsArrayObject(cx, args[0], &is_array) || !is_array) {
    return throw_type_error(cx, "storeCommand: an array of strings is required");
  }
  JS::RootedObject list(cx, &args[0].toObject());
  uint32_t length = 0;
  if (!JS::GetArrayLength(cx, list, &length) || length == 0) return throw_type_error(cx, "storeCommand: empty command");
  std::string request;
  ipc::resp::append_array_header(request, length);
  JS::RootedValue element(cx);
  for (uint32_t i = 0; i < length; ++i) {
    if (!JS_GetElement(cx, list, i, &element)) return false;
    if (!element.isString()) return throw_type_error(cx, "storeCommand: arguments must be strings");
    ipc::resp::append_bulk_string(request, string_to_utf8(cx, element.toString()));
  }
  JS::RootedObject promise(cx, JS::NewPromiseObject(cx, nullptr));
  if (!promise) return false;
  if (self.failed_ || !self.send(self.command_, std::move(request))) {
    JS::RootedValue reason(cx);
    if (!make_error(cx, unavailable_message("its connection is being renewed"), kUnavailableCode, &reason) ||
        !JS::RejectPromise(cx, promise, reason)) {
      return false;
    }
  } else {
    self.waiting_.push_back(std::make_unique<JS::PersistentRootedObject>(cx, promise));
  }
  args.rval().setObject(*promise);
  return true;
}

bool StoreBinding::native_subscribe(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  StoreBinding& self = Runtime::from(cx).store();
  if (!args.get(0).isString()) return throw_type_error(cx, "storeSubscribe: a channel name is required");
  std::string request;
  std::string channel = string_to_utf8(cx, args[0].toString());
  ipc::resp::append_command(request, {"SUBSCRIBE", channel});
  bool sent = !self.failed_ && self.send(self.subscription_, std::move(request));
  if (sent) self.subscribes_unanswered_.push_back(std::move(channel));
  args.rval().setBoolean(sent);
  return true;
}

bool StoreBinding::native_unsubscribe(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  StoreBinding& self = Runtime::from(cx).store();
  if (!args.get(0).isString()) return throw_type_error(cx, "storeUnsubscribe: a channel name is required");
  std::string request;
  std::string channel = string_to_utf8(cx, args[0].toString());
  ipc::resp::append_command(request, {"UNSUBSCRIBE", channel});
  args.rval().setBoolean(!self.failed_ && self.send(self.subscription_, std::move(request)));
  return true;
}

bool StoreBinding::install(JSContext* cx, JS::HandleObject native) {
  static const JSFunctionSpec functions[] = {
      JS_FN("storeCommand", native_command, 1, 0),
      JS_FN("storeSubscribe", native_subscribe, 1, 0),
      JS_FN("storeUnsubscribe", native_unsubscribe, 1, 0),
      JS_FS_END,
  };
  return JS_DefineFunctions(cx, native, functions);
}

}  // namespace worker
