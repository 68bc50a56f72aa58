#pragma once
// The native side of UDP handlers: datagrams from the supervisor go to the
// host's datagram hook one by one (promise jobs drained after each, as in
// Node), and ctx.reply() collects replies that go back to the supervisor in one
// batch per callback, to be sent from the handler's port.

#include <jsapi.h>

#include <span>

#include "common/socket_address.h"
#include "ipc/messages.h"

namespace worker {

class Runtime;

class UdpBinding {
 public:
  explicit UdpBinding(Runtime& runtime) : runtime_(runtime) {}
  static bool install(JSContext* cx, JS::HandleObject native);

  void dispatch(const common::SocketAddress& peer, std::span<const uint8_t> payload);
  // While a batch of datagrams is dispatched, replies wait and leave together
  // at its end (one channel write instead of one per datagram).
  void begin_batch() { ++batch_depth_; }
  void end_batch();
  // Sends the replies collected so far, unless a batch is being dispatched.
  void flush();

 private:
  static bool native_reply(JSContext* cx, unsigned argc, JS::Value* vp);

  Runtime& runtime_;
  ipc::DatagramBatch replies_{ipc::MessageType::replies};
  int batch_depth_ = 0;
};

}  // namespace worker
