// The TCP modes of portbroker-loadgen: one thread, non-blocking sockets and
// epoll, so the generator's own cost per operation stays small and the same
// against either server.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/load_common.h"
#include "common/unique_fd.h"

namespace bench {
namespace {

enum class Phase { connecting, greeting, echoing, streaming, idle };

struct Client {
  common::UniqueFd fd;
  Phase phase = Phase::connecting;
  uint64_t started_ns = 0;  // of the connection (connect) or the round trip (pingpong)
  size_t awaiting = 0;      // echo bytes still expected
  std::string line;         // the greeting so far
};

class TcpLoad {
 public:
  explicit TcpLoad(const Options& options) : options_(options), payload_(options.payload, 'x') {
    payload_.back() = '\n';
    stream_chunk_.assign(64 * 1024, 'y');
    target_.sin_family = AF_INET;
    target_.sin_port = htons(options.port);
    inet_pton(AF_INET, options.host.c_str(), &target_.sin_addr);
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  }

  int run() {
    clients_.resize(static_cast<size_t>(options_.connections));
    for (size_t i = 0; i < clients_.size(); ++i) open(i);
    uint64_t start = now_ns();
    measure_from_ = start + static_cast<uint64_t>(options_.warmup * 1e9);
    uint64_t end = measure_from_ + static_cast<uint64_t>(options_.seconds * 1e9);
    if (options_.mode == "idle") return hold(end);
    std::vector<epoll_event> events(256);
    while (now_ns() < end) {
      int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) on_event(events[static_cast<size_t>(i)].data.u64, events[static_cast<size_t>(i)].events);
    }
    report(options_.mode, completed_, options_.seconds, latencies_, errors_, bytes_);
    return 0;
  }

 private:
  void open(size_t index) {
    Client& client = clients_[index];
    client = Client{};
    client.fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    int one = 1;
    setsockopt(client.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    client.started_ns = now_ns();
    if (connect(client.fd.get(), reinterpret_cast<sockaddr*>(&target_), sizeof target_) != 0 && errno != EINPROGRESS) {
      ++errors_;
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u64 = index;
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, client.fd.get(), &event);
  }

  void watch(size_t index, uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = index;
    epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, clients_[index].fd.get(), &event);
  }

  void fail(size_t index) {
    ++errors_;
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, clients_[index].fd.get(), nullptr);
    open(index);
  }

  bool measuring() const { return now_ns() >= measure_from_; }

  void send_payload(size_t index) {
    Client& client = clients_[index];
    client.started_ns = now_ns();
    client.awaiting = payload_.size();
    client.phase = Phase::echoing;
    if (::send(client.fd.get(), payload_.data(), payload_.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(payload_.size())) {
      fail(index);
    }
  }

  void on_event(size_t index, uint32_t events) {
    Client& client = clients_[index];
    if (client.phase == Phase::connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(client.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) return fail(index);
      client.phase = Phase::greeting;
      watch(index, EPOLLIN);
      return;
    }
    if (client.phase == Phase::streaming && (events & EPOLLOUT)) {
      ssize_t n = ::send(client.fd.get(), stream_chunk_.data(), stream_chunk_.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) return fail(index);
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    char buffer[65536];
    ssize_t n = recv(client.fd.get(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return fail(index);
    switch (client.phase) {
      case Phase::greeting: {
        client.line.append(buffer, static_cast<size_t>(n));
        if (client.line.find('\n') == std::string::npos) return;
        if (options_.mode == "stream") {
          client.phase = Phase::streaming;
          watch(index, EPOLLIN | EPOLLOUT);
        } else if (options_.mode == "idle") {
          client.phase = Phase::idle;
          ++completed_;
        } else {
          send_payload(index);
        }
        return;
      }
      case Phase::echoing: {
        size_t got = std::min(client.awaiting, static_cast<size_t>(n));
        client.awaiting -= got;
        if (client.awaiting > 0) return;
        uint64_t t = now_ns();
        if (measuring()) {
          ++completed_;
          latencies_.push_back(t - client.started_ns);
        }
        if (options_.mode == "pingpong") return send_payload(index);
        // connect mode: a new connection for the next operation.
        epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, client.fd.get(), nullptr);
        open(index);
        return;
      }
      case Phase::streaming:
        if (measuring()) bytes_ += static_cast<uint64_t>(n);
        return;
      default:
        return;
    }
  }

  // idle: every connection greeted, then held open until the end.
  int hold(uint64_t end) {
    std::vector<epoll_event> events(256);
    while (completed_ < clients_.size() && now_ns() < end) {
      int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) on_event(events[static_cast<size_t>(i)].data.u64, events[static_cast<size_t>(i)].events);
    }
    std::printf("{\"mode\":\"idle\",\"held\":%llu,\"errors\":%llu}\n", static_cast<unsigned long long>(completed_),
                static_cast<unsigned long long>(errors_));
    std::fflush(stdout);
    while (now_ns() < end) usleep(50000);
    return completed_ == clients_.size() ? 0 : 1;
  }

  const Options& options_;
  std::string payload_;
  std::string stream_chunk_;
  sockaddr_in target_{};
  common::UniqueFd epoll_;
  std::vector<Client> clients_;
  uint64_t measure_from_ = 0;
  uint64_t completed_ = 0;
  uint64_t errors_ = 0;
  uint64_t bytes_ = 0;
  std::vector<uint64_t> latencies_;
};

}  // namespace

int run_tcp(const Options& options) { return TcpLoad(options).run(); }

}  // namespace bench
