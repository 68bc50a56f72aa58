#include "ipc/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace ipc {
namespace {

constexpr int kSocketBufferBytes = 4 * kMaxMessageBytes;

void size_buffers(int fd) {
  int size = kSocketBufferBytes;
  // The FORCE variants exceed rmem_max/wmem_max when we have CAP_NET_ADMIN.
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
}

}  // namespace

bool make_channel_pair(common::UniqueFd& first, common::UniqueFd& second) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return false;
  first.reset(fds[0]);
  second.reset(fds[1]);
  size_buffers(fds[0]);
  size_buffers(fds[1]);
  return true;
}

IoResult send_message(int socket_fd, std::span<const uint8_t> bytes, std::span<const int> fds, int* error) {
  if (bytes.size() > kMaxMessageBytes || fds.size() > kMaxFdsPerMessage) {
    if (error) *error = EMSGSIZE;
    return IoResult::error;
  }
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t sent = sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
    if (sent >= 0) return IoResult::ok;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::would_block;
    if (error) *error = errno;
    return (errno == EPIPE || errno == ECONNRESET) ? IoResult::closed : IoResult::error;
  }
}

IoResult send_queued(int socket_fd, std::deque<std::vector<uint8_t>>& queue, int timeout_ms, int* error) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!queue.empty()) {
    IoResult result = send_message(socket_fd, queue.front(), {}, error);
    if (result == IoResult::ok) {
      queue.pop_front();
      continue;
    }
    if (result != IoResult::would_block) return result;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return IoResult::would_block;
    pollfd room{socket_fd, POLLOUT, 0};
    if (::poll(&room, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
      if (error) *error = errno;
      return IoResult::error;
    }
  }
  return IoResult::ok;
}

namespace {

// Takes ownership of every fd that arrived with `msg` first, so that any error
// path closes them; then judges the message as receive_message documents.
IoResult take_message(const msghdr& msg, size_t received, std::vector<common::UniqueFd>& fds, int* error) {
  fds.clear();
  for (const cmsghdr* header = CMSG_FIRSTHDR(&msg); header != nullptr;
       header = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(header))) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if (received == 0 && fds.empty()) return IoResult::closed;
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    fds.clear();
    if (error) *error = EMSGSIZE;
    return IoResult::error;
  }
  return IoResult::ok;
}

IoResult receive_failure(int* error) {
  if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::would_block;
  if (error) *error = errno;
  return errno == ECONNRESET ? IoResult::closed : IoResult::error;
}

constexpr size_t kControlBytes = CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage);

}  // namespace

IoResult receive_message(int socket_fd, ReceivedMessage& out, int* error) {
  out.fds_.clear();
  out.length_ = 0;
  iovec iov{out.buffer_.data(), out.buffer_.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[kControlBytes];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t received;
  for (;;) {
    received = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
    if (received >= 0) break;
    if (errno != EINTR) return receive_failure(error);
  }
  IoResult result = take_message(msg, static_cast<size_t>(received), out.fds_, error);
  if (result == IoResult::ok) out.length_ = static_cast<size_t>(received);
  return result;
}

struct MessageReader::Slot {
  // Not zeroed: a page becomes resident only once a message reaches it.
  std::unique_ptr<uint8_t[]> buffer = std::make_unique_for_overwrite<uint8_t[]>(kMaxMessageBytes);
  alignas(cmsghdr) char control[kControlBytes];
  size_t length = 0;
  IoResult result = IoResult::ok;
  int error = 0;
  std::vector<common::UniqueFd> fds;
};

MessageReader::MessageReader() : slots_(std::make_unique<Slot[]>(kBatch)) {}
MessageReader::~MessageReader() = default;

std::span<const uint8_t> MessageReader::bytes() const {
  const Slot& slot = slots_[current_];
  return {slot.buffer.get(), slot.length};
}

std::vector<common::UniqueFd>& MessageReader::fds() { return slots_[current_].fds; }

void MessageReader::reset() {
  for (size_t i = 0; i < kBatch; ++i) {
    slots_[i].fds.clear();
    slots_[i].length = 0;
  }
  count_ = 0;
  current_ = 0;
  drained_ = false;
}

IoResult MessageReader::next(int socket_fd, int* error) {
  if (pending()) return deliver(++current_, error);
  count_ = 0;
  if (drained_) {
    drained_ = false;
    return IoResult::would_block;
  }
  mmsghdr messages[kBatch]{};
  iovec iovs[kBatch];
  for (size_t i = 0; i < kBatch; ++i) {
    iovs[i] = {slots_[i].buffer.get(), kMaxMessageBytes};
    msghdr& msg = messages[i].msg_hdr;
    msg.msg_iov = &iovs[i];
    msg.msg_iovlen = 1;
    msg.msg_control = slots_[i].control;
    msg.msg_controllen = kControlBytes;
  }
  int received;
  for (;;) {
    received = recvmmsg(socket_fd, messages, kBatch, MSG_CMSG_CLOEXEC | MSG_DONTWAIT, nullptr);
    if (received >= 0) break;
    if (errno != EINTR) return receive_failure(error);
  }
  if (received == 0) return IoResult::would_block;
  for (size_t i = 0; i < static_cast<size_t>(received); ++i) {
    Slot& slot = slots_[i];
    slot.error = 0;
    slot.length = messages[i].msg_len;
    slot.result = take_message(messages[i].msg_hdr, slot.length, slot.fds, &slot.error);
    if (slot.result != IoResult::ok) slot.length = 0;
  }
  count_ = static_cast<size_t>(received);
  drained_ = count_ < kBatch;
  return deliver(current_ = 0, error);
}

IoResult MessageReader::deliver(size_t index, int* error) {
  const Slot& slot = slots_[index];
  if (slot.result == IoResult::error && error) *error = slot.error;
  return slot.result;
}

}  // namespace ipc
