#pragma once
// A UDP handler's socket. The supervisor owns it: it receives datagrams in
// batches (recvmmsg), screens each source, and passes admitted datagrams to the
// worker in batch messages; replies come back in batches and leave from this
// same socket (sendmmsg), so they carry the handler's port.

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/messages.h"

namespace supervisor {

class UdpEndpoint {
 public:
  // Decides on one datagram of `bytes` (payload), received or to be sent.
  using Admit = std::function<bool(const common::SocketAddress& peer, size_t bytes)>;
  using BatchSink = std::function<void(const ipc::DatagramBatch& batch)>;

  struct SendResult {
    uint64_t sent = 0;
    uint64_t failed = 0;
    uint64_t refused = 0;  // rejected by `may_send` (no session, over budget or rate)
    bool malformed = false;
  };

  UdpEndpoint(uv_loop_t* loop, uint16_t port) : loop_(loop), port_(port) {}
  bool open(std::string& error);
  void resume(Admit admit, BatchSink sink);
  void pause();
  // Sends the replies of a worker's batch to the destinations `may_send` accepts.
  SendResult send_replies(std::span<const uint8_t> message, const Admit& may_send);
  // Datagrams the kernel dropped at this socket since it was opened, its
  // receive buffer full (the supervisor behind, or not reading while the
  // worker restarts): the kernel's own count (SO_MEMINFO), a 32-bit counter.
  uint64_t kernel_drops() const;

 private:
  void on_readable();

  uv_loop_t* loop_;
  uint16_t port_;
  common::UniqueFd fd_;
  bool ipv6_socket_ = true;
  common::UvHandle<uv_poll_t> poll_;
  Admit admit_;
  BatchSink sink_;
  ipc::DatagramBatch batch_{ipc::MessageType::datagrams};
};

}  // namespace supervisor
