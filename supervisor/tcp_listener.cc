#include "supervisor/tcp_listener.h"

#include <sys/socket.h>

#include <cerrno>

#include "common/log.h"
#include "supervisor/listen_socket.h"

namespace supervisor {
namespace {

// Aborted handshakes skipped in one wake-up before the listener yields.
constexpr int kMaxSkippedPerWakeup = 64;
constexpr uint64_t kResourceBackoffMs = 100;

}  // namespace

bool TcpListener::open(std::string& error) {
  fd_ = open_dual_stack_socket(SOCK_STREAM, port_, error);
  if (!fd_) return false;
  if (int rc = poll_.init(uv_poll_init, loop_, fd_.get()); rc != 0) {
    error = std::string("cannot watch tcp port ") + std::to_string(port_) + ": " + uv_strerror(rc);
    return false;
  }
  poll_->data = this;
  return true;
}

void TcpListener::resume(AcceptCallback on_accept) {
  on_accept_ = std::move(on_accept);
  start_polling();
}

void TcpListener::resume() {
  if (on_accept_) start_polling();
}

void TcpListener::start_polling() {
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
    if (handle->data) static_cast<TcpListener*>(handle->data)->on_readable();
  });
}

void TcpListener::pause() {
  if (poll_) uv_poll_stop(poll_.get());
  backoff_.cancel();
}

// One connection per wake-up, as Node's libuv does: the listener is
// level-triggered, so a connection still queued wakes the next loop iteration
// at once (other listeners and the worker channels take turns meanwhile), and
// a lone connection costs no second accept4 that finds the queue empty.
void TcpListener::on_readable() {
  for (int skipped = 0; skipped < kMaxSkippedPerWakeup; ++skipped) {
    sockaddr_storage remote{};
    socklen_t remote_length = sizeof remote;
    common::UniqueFd fd(accept4(fd_.get(), reinterpret_cast<sockaddr*>(&remote), &remote_length,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      // EMFILE/ENFILE/ENOBUFS/ENOMEM: the connection stays queued; rest, then retry.
      common::log::error("accept-failed").kv("port", port_).err(errno);
      uv_poll_stop(poll_.get());
      backoff_.start(loop_, kResourceBackoffMs, [this] { start_polling(); });
      return;
    }
    on_accept_(std::move(fd), common::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&remote), remote_length));
    return;
  }
}

}  // namespace supervisor
