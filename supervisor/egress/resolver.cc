#include "supervisor/egress/resolver.h"

#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>

namespace supervisor::egress {

struct Resolver::Query {
  Resolver* resolver;
  Callback done;
};

Resolver::Resolver(uv_loop_t* loop, uint32_t timeout_ms) : loop_(loop), created_ms_(uv_now(loop)) {
  static std::once_flag library;
  std::call_once(library, [] { ares_library_init(ARES_LIB_INIT_ALL); });
  ares_options options{};
  options.sock_state_cb = &Resolver::on_socket_state;
  options.sock_state_cb_data = this;
  // Two tries, so one lost datagram is not a failure; the dialer's own
  // deadline (egress.lookup_timeout_ms) bounds what the handler waits.
  options.tries = 2;
  options.timeout = static_cast<int>(std::max<uint32_t>(timeout_ms / 2, 100));
  init_status_ = ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS);
  if (init_status_ != ARES_SUCCESS) channel_ = nullptr;
}

Resolver::~Resolver() {
  // Pending queries are called back with ARES_EDESTRUCTION, which drops them.
  if (channel_ != nullptr) ares_destroy(channel_);
  polls_.clear();
}

bool Resolver::temporary(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
    case ARES_EBADNAME:
    case ARES_EBADFAMILY:
      return false;
    default:
      return status != ARES_SUCCESS;
  }
}

void Resolver::resolve(const std::string& name, int family, Callback done) {
  ++pending_;
  if (channel_ == nullptr) return queue_answer(std::move(done), Answer{init_status_, {}});
  ares_addrinfo_hints hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &Resolver::on_answer, new Query{this, std::move(done)});
  schedule_timeout();
}

void Resolver::on_answer(void* arg, int status, int, ares_addrinfo* result) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  Answer answer{status, {}};
  if (result != nullptr) {
    for (ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
      if (node->ai_addr == nullptr) continue;
      auto address = common::SocketAddress::from_sockaddr(node->ai_addr, node->ai_addrlen);
      if (address.valid()) answer.addresses.push_back(address);
    }
    ares_freeaddrinfo(result);
  }
  // The resolver is going away: its owner waits for nothing.
  if (status == ARES_EDESTRUCTION) return;
  query->resolver->queue_answer(std::move(query->done), std::move(answer));
}

void Resolver::queue_answer(Callback done, Answer answer) {
  ready_.emplace_back(std::move(done), std::move(answer));
  delivery_.start(loop_, 0, [this] { deliver(); });
}

void Resolver::deliver() {
  if (ready_.empty()) return;
  auto [done, answer] = std::move(ready_.front());
  ready_.pop_front();
  --pending_;
  // The rest on later turns: this call may destroy the resolver.
  if (!ready_.empty()) delivery_.start(loop_, 0, [this] { deliver(); });
  done(std::move(answer));
}

void Resolver::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<Resolver*>(data);
  if (!readable && !writable) {
    // Called before c-ares closes the socket: the watch goes first.
    self->polls_.erase(fd);
    return;
  }
  auto& poll = self->polls_[fd];
  if (!poll) {
    if (poll.init(uv_poll_init_socket, self->loop_, fd) != 0) {
      self->polls_.erase(fd);
      return;
    }
    poll->data = self;
  }
  uv_poll_start(poll.get(), (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                [](uv_poll_t* handle, int status, int events) {
                  auto* resolver = static_cast<Resolver*>(handle->data);
                  if (resolver == nullptr) return;
                  int socket = -1;
                  uv_fileno(reinterpret_cast<uv_handle_t*>(handle), &socket);
                  // An error on the socket is for c-ares to read.
                  bool can_read = status < 0 || (events & UV_READABLE);
                  bool can_write = status >= 0 && (events & UV_WRITABLE);
                  resolver->process(can_read ? socket : ARES_SOCKET_BAD, can_write ? socket : ARES_SOCKET_BAD);
                });
}

void Resolver::process(ares_socket_t readable, ares_socket_t writable) {
  ares_process_fd(channel_, readable, writable);
  schedule_timeout();
}

void Resolver::schedule_timeout() {
  timeval wait{};
  if (ares_timeout(channel_, nullptr, &wait) == nullptr) {
    timeout_.cancel();
    return;
  }
  uint64_t ms = static_cast<uint64_t>(wait.tv_sec) * 1000 + static_cast<uint64_t>(wait.tv_usec + 999) / 1000;
  timeout_.start(loop_, ms, [this] { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); });
}

}  // namespace supervisor::egress
