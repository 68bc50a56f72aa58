#pragma once
// A channel between two portbroker processes: a SOCK_SEQPACKET Unix socket pair,
// so every message arrives whole, and file descriptors travel with a message as
// SCM_RIGHTS. Received fds come back as owners; a message whose payload or fds
// were truncated is an error, and any fds that did arrive with it are closed.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace ipc {

inline constexpr size_t kMaxMessageBytes = 256 * 1024;
inline constexpr size_t kMaxFdsPerMessage = 8;

enum class IoResult { ok, would_block, closed, error };

// Both ends non-blocking and close-on-exec; socket buffers sized for
// kMaxMessageBytes messages. Returns false (errno set) on failure.
bool make_channel_pair(common::UniqueFd& first, common::UniqueFd& second);

IoResult send_message(int socket_fd, std::span<const uint8_t> bytes, std::span<const int> fds = {},
                      int* error = nullptr);

// Sends `queue`'s messages (without fds) in order, removing each one sent,
// waiting for room up to timeout_ms in all (0: only what fits now). ok once
// the queue is empty; would_block if time ran out first; closed or error (the
// message stays queued) when the peer cannot take it. A process about to exit
// gives its last messages this bounded wait rather than dying with them.
IoResult send_queued(int socket_fd, std::deque<std::vector<uint8_t>>& queue, int timeout_ms,
                     int* error = nullptr);

class ReceivedMessage {
 public:
  ReceivedMessage() : buffer_(kMaxMessageBytes) {}
  std::span<const uint8_t> bytes() const { return {buffer_.data(), length_}; }
  std::vector<common::UniqueFd>& fds() { return fds_; }

 private:
  friend IoResult receive_message(int, ReceivedMessage&, int*);
  std::vector<uint8_t> buffer_;
  size_t length_ = 0;
  std::vector<common::UniqueFd> fds_;
};

// Receives one message into `out` (replacing its previous content).
IoResult receive_message(int socket_fd, ReceivedMessage& out, int* error = nullptr);

// Reads a channel the way its poll callback wants it: up to kBatch messages
// per recvmmsg, and once a batch came back short (the queue was empty then),
// the next call reports would_block without asking the kernel, so a wake-up
// for a single message costs a single system call. The poll is
// level-triggered: a message arriving meanwhile wakes the next iteration.
// A caller that stops before would_block must come back while pending().
class MessageReader {
 public:
  static constexpr size_t kBatch = 4;

  MessageReader();
  ~MessageReader();
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;

  // Results as receive_message's; the message stays readable through bytes()
  // and fds() until the next call.
  IoResult next(int socket_fd, int* error = nullptr);
  std::span<const uint8_t> bytes() const;
  std::vector<common::UniqueFd>& fds();
  bool pending() const { return current_ + 1 < count_; }
  // Forgets everything read so far: for a reader kept while its channel is
  // replaced (a peer that closed can leave a batch of ends of stream).
  void reset();

 private:
  struct Slot;
  IoResult deliver(size_t index, int* error);

  std::unique_ptr<Slot[]> slots_;
  size_t count_ = 0;    // messages from the last recvmmsg
  size_t current_ = 0;  // the one last delivered
  bool drained_ = false;
};

}  // namespace ipc
