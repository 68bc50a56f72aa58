#include "worker/api_udp.h"

#include <arpa/inet.h>

#include "common/log.h"
#include "worker/js_util.h"
#include "worker/runtime.h"
#include "worker/supervisor_link.h"

namespace worker {

void UdpBinding::dispatch(const common::SocketAddress& peer, std::span<const uint8_t> payload) {
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  // Every new GC thing goes straight into the rooted array: the next
  // allocation may move or collect anything held in a raw pointer.
  JS::RootedValueArray<4> args(cx);
  JSObject* message = new_array_buffer_copy(cx, payload);
  if (message != nullptr) args[0].setObject(*message);
  JSString* address = message ? JS_NewStringCopyZ(cx, peer.ip().c_str()) : nullptr;
  if (address != nullptr) args[1].setString(address);
  JSString* family = address ? JS_NewStringCopyZ(cx, std::string(peer.family_name()).c_str()) : nullptr;
  if (family == nullptr) {
    runtime_.report_pending_exception();
    return;
  }
  args[2].setString(family);
  args[3].setNumber(peer.port());
  runtime_.call_hook(Hook::datagram, args);
}

void UdpBinding::end_batch() {
  if (--batch_depth_ == 0) flush();
}

void UdpBinding::flush() {
  if (replies_.empty() || batch_depth_ > 0) return;
  runtime_.link().send(replies_.bytes());
  replies_.clear();
}

// udpReply(bytes, address, port) → true if queued; false for an address that
// is not an IP address (the JS side validates and throws first).
bool UdpBinding::native_reply(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  UdpBinding& self = Runtime::from(cx).udp();
  if (!args.get(0).isObject() || !args.get(1).isString() || !args.get(2).isNumber()) {
    return throw_type_error(cx, "udpReply: (Uint8Array, address, port) expected");
  }
  std::string address = string_to_utf8(cx, args[1].toString());
  double port_number = args[2].toNumber();
  if (!(port_number >= 1 && port_number <= 65535)) return throw_type_error(cx, "reply port must be 1-65535");
  auto port = static_cast<uint16_t>(port_number);
  std::array<uint8_t, 16> bytes{};
  common::SocketAddress peer;
  if (inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1) {
    peer = common::SocketAddress::from_parts(AF_INET6, bytes, port);
  } else if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
    peer = common::SocketAddress::from_parts(AF_INET, bytes, port);
  } else {
    args.rval().setBoolean(false);
    return true;
  }
  bool too_large = false;
  {
    JS::AutoCheckCannotGC nogc;
    std::span<uint8_t> payload;
    if (!get_bytes(&args[0].toObject(), payload, nogc)) {
      too_large = true;
    } else if (!self.replies_.add(peer, payload)) {
      self.runtime_.link().send(self.replies_.bytes());  // full: send now even inside a batch
      self.replies_.clear();
      too_large = !self.replies_.add(peer, payload);
    }
  }
  if (too_large) return throw_type_error(cx, "reply payload must be a Uint8Array of at most 65507 bytes");
  args.rval().setBoolean(true);
  return true;
}

bool UdpBinding::install(JSContext* cx, JS::HandleObject native) {
  static const JSFunctionSpec functions[] = {
      JS_FN("udpReply", native_reply, 3, 0),
      JS_FS_END,
  };
  return JS_DefineFunctions(cx, native, functions);
}

}  // namespace worker
