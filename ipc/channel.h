#pragma once
// A channel between two portbroker processes: a SOCK_SEQPACKET Unix socket pair,
// so every message arrives whole, and file descriptors travel with a message as
// SCM_RIGHTS. Received fds come back as owners; a message whose payload or fds
// were truncated is an error, and any fds that did arrive with it are closed.

#include <cstddef>
#include <cstdint>
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

}  // namespace ipc
