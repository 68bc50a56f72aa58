#include "ipc/channel.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

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

IoResult receive_message(int socket_fd, ReceivedMessage& out, int* error) {
  out.fds_.clear();
  out.length_ = 0;
  iovec iov{out.buffer_.data(), out.buffer_.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t received;
  for (;;) {
    received = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
    if (received >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::would_block;
    if (error) *error = errno;
    return errno == ECONNRESET ? IoResult::closed : IoResult::error;
  }
  // Take ownership of every fd first, so that any error path below closes them.
  for (cmsghdr* header = CMSG_FIRSTHDR(&msg); header != nullptr; header = CMSG_NXTHDR(&msg, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      out.fds_.emplace_back(fd);
    }
  }
  if (received == 0 && out.fds_.empty()) return IoResult::closed;
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    out.fds_.clear();
    if (error) *error = EMSGSIZE;
    return IoResult::error;
  }
  out.length_ = static_cast<size_t>(received);
  return IoResult::ok;
}

}  // namespace ipc
