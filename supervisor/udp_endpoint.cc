#include "supervisor/udp_endpoint.h"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <vector>

#include "common/log.h"
#include "supervisor/listen_socket.h"

namespace supervisor {
namespace {

constexpr size_t kReceiveBatch = 32;
constexpr size_t kMaxDatagramBytes = 65536;
// Rounds of recvmmsg per wakeup, so one busy port cannot starve the others.
constexpr int kReceiveRounds = 4;
constexpr size_t kSendBatch = 64;

// One receive area for every endpoint: the loop is single-threaded and each
// round is copied into a batch message before the next.
struct ReceiveArea {
  std::array<std::array<uint8_t, kMaxDatagramBytes>, kReceiveBatch> buffers;
  std::array<iovec, kReceiveBatch> iovecs;
  std::array<sockaddr_storage, kReceiveBatch> peers;
  std::array<mmsghdr, kReceiveBatch> headers;
};

ReceiveArea& receive_area() {
  static auto* area = new ReceiveArea();
  return *area;
}

}  // namespace

bool UdpEndpoint::open(std::string& error) {
  fd_ = open_dual_stack_socket(SOCK_DGRAM, port_, error);
  if (!fd_) return false;
  int domain = AF_INET6;
  socklen_t length = sizeof domain;
  getsockopt(fd_.get(), SOL_SOCKET, SO_DOMAIN, &domain, &length);
  ipv6_socket_ = domain == AF_INET6;
  if (int rc = poll_.init(uv_poll_init, loop_, fd_.get()); rc != 0) {
    error = std::string("cannot watch udp port ") + std::to_string(port_) + ": " + uv_strerror(rc);
    return false;
  }
  poll_->data = this;
  return true;
}

uint64_t UdpEndpoint::kernel_drops() const {
  if (!fd_) return 0;
  std::array<uint32_t, SK_MEMINFO_VARS> info{};
  socklen_t length = sizeof info;
  if (getsockopt(fd_.get(), SOL_SOCKET, SO_MEMINFO, info.data(), &length) != 0 ||
      length <= SK_MEMINFO_DROPS * sizeof(uint32_t)) {
    return 0;
  }
  return info[SK_MEMINFO_DROPS];
}

void UdpEndpoint::resume(Admit admit, BatchSink sink) {
  admit_ = std::move(admit);
  sink_ = std::move(sink);
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
    if (handle->data) static_cast<UdpEndpoint*>(handle->data)->on_readable();
  });
}

void UdpEndpoint::pause() {
  if (poll_) uv_poll_stop(poll_.get());
}

void UdpEndpoint::on_readable() {
  ReceiveArea& area = receive_area();
  for (int round = 0; round < kReceiveRounds; ++round) {
    for (size_t i = 0; i < kReceiveBatch; ++i) {
      area.iovecs[i] = {area.buffers[i].data(), area.buffers[i].size()};
      area.headers[i] = {};
      area.headers[i].msg_hdr.msg_iov = &area.iovecs[i];
      area.headers[i].msg_hdr.msg_iovlen = 1;
      area.headers[i].msg_hdr.msg_name = &area.peers[i];
      area.headers[i].msg_hdr.msg_namelen = sizeof area.peers[i];
    }
    int received = recvmmsg(fd_.get(), area.headers.data(), kReceiveBatch, MSG_DONTWAIT, nullptr);
    if (received < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        common::log::error("udp-receive-failed").kv("port", port_).err(errno);
      }
      break;
    }
    for (int i = 0; i < received; ++i) {
      const mmsghdr& header = area.headers[static_cast<size_t>(i)];
      auto peer = common::SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(header.msg_hdr.msg_name),
                                                       header.msg_hdr.msg_namelen);
      if (!peer.valid() || !admit_(peer, header.msg_len)) continue;
      std::span<const uint8_t> payload(area.buffers[static_cast<size_t>(i)].data(), header.msg_len);
      if (!batch_.add(peer, payload)) {
        sink_(batch_);
        batch_.clear();
        batch_.add(peer, payload);
      }
    }
    if (static_cast<size_t>(received) < kReceiveBatch) break;
  }
  if (!batch_.empty()) {
    sink_(batch_);
    batch_.clear();
  }
}

UdpEndpoint::SendResult UdpEndpoint::send_replies(std::span<const uint8_t> message, const Admit& may_send) {
  SendResult result;
  std::vector<common::SocketAddress> peers;
  std::vector<iovec> iovecs;
  peers.reserve(kSendBatch);
  iovecs.reserve(kSendBatch);
  std::array<mmsghdr, kSendBatch> headers{};
  auto flush = [&]() {
    size_t offset = 0;
    while (offset < peers.size()) {
      for (size_t i = offset; i < peers.size(); ++i) {
        headers[i] = {};
        headers[i].msg_hdr.msg_name = const_cast<sockaddr*>(peers[i].sockaddr_ptr());
        headers[i].msg_hdr.msg_namelen = peers[i].length();
        headers[i].msg_hdr.msg_iov = &iovecs[i];
        headers[i].msg_hdr.msg_iovlen = 1;
      }
      int sent = sendmmsg(fd_.get(), headers.data() + offset, static_cast<unsigned>(peers.size() - offset), MSG_DONTWAIT);
      if (sent <= 0) {
        // The head datagram cannot go (full buffer, unreachable peer): drop it, go on.
        ++result.failed;
        ++offset;
        continue;
      }
      result.sent += static_cast<uint64_t>(sent);
      offset += static_cast<size_t>(sent);
    }
    peers.clear();
    iovecs.clear();
  };
  bool ok = ipc::for_each_datagram(message, ipc::MessageType::replies,
                                   [&](const common::SocketAddress& peer, std::span<const uint8_t> payload) {
                                     if (!may_send(peer, payload.size())) {
                                       ++result.refused;
                                       return;
                                     }
                                     // An IPv4 reply from an IPv6 socket goes out as ::ffff:a.b.c.d.
                                     common::SocketAddress target = peer;
                                     if (peer.family() == AF_INET && ipv6_socket_) {
                                       std::array<uint8_t, 16> mapped{};
                                       mapped[10] = mapped[11] = 0xff;
                                       auto v4 = peer.bytes();
                                       std::copy_n(v4.begin(), 4, mapped.begin() + 12);
                                       target = common::SocketAddress::from_parts(AF_INET6, mapped, peer.port());
                                     }
                                     peers.push_back(target);
                                     iovecs.push_back({const_cast<uint8_t*>(payload.data()), payload.size()});
                                     if (peers.size() == kSendBatch) flush();
                                   });
  flush();
  result.malformed = !ok;
  return result;
}

}  // namespace supervisor
