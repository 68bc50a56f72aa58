#include "supervisor/store/node_dialer.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <set>
#include <vector>

#include "common/one_shot_timer.h"
#include "common/process.h"
#include "common/uv_handle.h"

namespace supervisor {
namespace {

std::string address_text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
    return std::string(text) + ":" + std::to_string(port);
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
  inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
  port = ntohs(v6.sin6_port);
  return "[" + std::string(text) + "]:" + std::to_string(port);
}

socklen_t address_length(const sockaddr_storage& address) {
  return address.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

// An IP literal needs no resolution.
bool literal_address(const std::string& host, uint16_t port, sockaddr_storage& out) {
  out = {};
  auto& v4 = reinterpret_cast<sockaddr_in&>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return true;
  }
  auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    return true;
  }
  return false;
}

// The resolution outlives its attempt (a thread-pool job cannot always be
// cancelled), so it owns itself and finds its attempt again by id.
struct Resolution {
  uv_getaddrinfo_t request{};
  NodeDialer* owner = nullptr;
  uint64_t id = 0;
};
std::set<Resolution*>& resolutions() {
  static std::set<Resolution*> outstanding;
  return outstanding;
}

}  // namespace

struct NodeDialer::Attempt {
  NodeDialer* owner = nullptr;
  uint64_t id = 0;
  std::string host;
  uint16_t port = 0;
  Done done;
  std::vector<sockaddr_storage> addresses;
  size_t next = 0;
  common::UniqueFd fd;
  common::UvHandle<uv_poll_t> poll;
  common::OneShotTimer deadline;
  common::OneShotTimer kick;  // the next step, on the next loop iteration
  std::string last_error;
};

NodeDialer::NodeDialer(uv_loop_t* loop) : loop_(loop) {}

NodeDialer::~NodeDialer() { cancel_all(); }

void NodeDialer::cancel_all() {
  for (Resolution* resolution : resolutions()) {
    if (resolution->owner == this) {
      resolution->owner = nullptr;
      uv_cancel(reinterpret_cast<uv_req_t*>(&resolution->request));
    }
  }
  attempts_.clear();
}

void NodeDialer::dial_tcp(const std::string& host, uint16_t port, uint64_t timeout_ms, Done done) {
  auto attempt = std::make_unique<Attempt>();
  Attempt& added = *attempt;
  added.owner = this;
  added.id = next_id_++;
  added.host = host;
  added.port = port;
  added.done = std::move(done);
  attempts_.emplace(added.id, std::move(attempt));
  added.deadline.start(loop_, timeout_ms, [this, &added, timeout_ms] {
    std::string why = "no connection to " + added.host + ":" + std::to_string(added.port) + " within " +
                      std::to_string(timeout_ms) + " ms";
    finish(added, {}, added.last_error.empty() ? why : why + " (" + added.last_error + ")");
  });
  sockaddr_storage literal{};
  if (literal_address(host, port, literal)) {
    added.addresses.push_back(literal);
    // Not from inside dial_tcp: on the next loop iteration.
    added.kick.start(loop_, 0, [this, &added] { try_next(added); });
    return;
  }
  auto* resolution = new Resolution();
  resolution->owner = this;
  resolution->id = added.id;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  int rc = uv_getaddrinfo(
      loop_, &resolution->request,
      [](uv_getaddrinfo_t* request, int status, addrinfo* result) {
        std::unique_ptr<Resolution> owned(reinterpret_cast<Resolution*>(request));
        resolutions().erase(owned.get());
        NodeDialer* owner = owned->owner;
        auto it = owner == nullptr ? decltype(owner->attempts_)::iterator() : owner->attempts_.find(owned->id);
        if (owner == nullptr || it == owner->attempts_.end()) {
          uv_freeaddrinfo(result);
          return;
        }
        owner->resolved(*it->second, status, result);
      },
      host.c_str(), std::to_string(port).c_str(), &hints);
  if (rc != 0) {
    delete resolution;
    added.last_error = std::string("cannot resolve ") + host + ": " + uv_strerror(rc);
    added.kick.start(loop_, 0, [this, &added] { finish(added, {}, added.last_error); });
    return;
  }
  static_assert(offsetof(Resolution, request) == 0, "the request is the resolution's address");
  resolutions().insert(resolution);
}

void NodeDialer::resolved(Attempt& attempt, int status, addrinfo* result) {
  if (status != 0) {
    uv_freeaddrinfo(result);
    return finish(attempt, {}, "cannot resolve " + attempt.host + ": " + uv_strerror(status));
  }
  for (addrinfo* entry = result; entry != nullptr; entry = entry->ai_next) {
    if ((entry->ai_family != AF_INET && entry->ai_family != AF_INET6) || entry->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    sockaddr_storage address{};
    std::memcpy(&address, entry->ai_addr, entry->ai_addrlen);
    attempt.addresses.push_back(address);
  }
  uv_freeaddrinfo(result);
  try_next(attempt);
}

void NodeDialer::try_next(Attempt& attempt) {
  while (attempt.next < attempt.addresses.size()) {
    const sockaddr_storage& address = attempt.addresses[attempt.next++];
    attempt.poll.reset();
    attempt.fd.reset(socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!attempt.fd) {
      attempt.last_error = "cannot create a socket: " + common::errno_text(errno);
      continue;
    }
    if (connect(attempt.fd.get(), reinterpret_cast<const sockaddr*>(&address), address_length(address)) == 0) {
      common::UniqueFd connected = std::move(attempt.fd);
      return finish(attempt, std::move(connected), "");
    }
    if (errno != EINPROGRESS) {
      attempt.last_error = address_text(address) + ": " + common::errno_text(errno);
      continue;
    }
    attempt.last_error = address_text(address) + ": connecting";
    if (int rc = attempt.poll.init(uv_poll_init_socket, loop_, attempt.fd.get()); rc != 0) {
      attempt.last_error = std::string("cannot watch a socket: ") + uv_strerror(rc);
      continue;
    }
    attempt.poll->data = &attempt;
    uv_poll_start(attempt.poll.get(), UV_WRITABLE, [](uv_poll_t* handle, int, int) {
      if (auto* self = static_cast<Attempt*>(handle->data)) self->owner->on_writable(*self);
    });
    return;
  }
  finish(attempt, {}, attempt.last_error.empty() ? "no address for " + attempt.host : attempt.last_error);
}

void NodeDialer::on_writable(Attempt& attempt) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(attempt.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  attempt.poll.reset();  // running this callback: libuv frees it afterwards
  if (error == 0) {
    common::UniqueFd connected = std::move(attempt.fd);
    return finish(attempt, std::move(connected), "");
  }
  attempt.last_error = address_text(attempt.addresses[attempt.next - 1]) + ": " + common::errno_text(error);
  attempt.fd.reset();
  try_next(attempt);
}

void NodeDialer::finish(Attempt& attempt, common::UniqueFd fd, const std::string& error) {
  if (fd) {
    int on = 1;
    int family = 0;
    socklen_t length = sizeof family;
    // Commands are small and answered one by one: never held back by Nagle.
    if (getsockopt(fd.get(), SOL_SOCKET, SO_DOMAIN, &family, &length) == 0 && family != AF_UNIX) {
      setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    }
  }
  auto it = attempts_.find(attempt.id);
  if (it == attempts_.end()) return;
  // Out of the table first: `done` may dial again, and the attempt (whose
  // handle or timer may be running this) is freed after.
  std::unique_ptr<Attempt> finished = std::move(it->second);
  attempts_.erase(it);
  Done done = std::move(finished->done);
  finished->deadline.cancel();
  finished->kick.cancel();
  finished->poll.reset();
  done(std::move(fd), error);
}

void NodeDialer::dial_unix(const std::string& path, Done done) {
  auto attempt = std::make_unique<Attempt>();
  Attempt& added = *attempt;
  added.owner = this;
  added.id = next_id_++;
  added.host = path;
  added.done = std::move(done);
  attempts_.emplace(added.id, std::move(attempt));
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string error;
  if (path.size() >= sizeof address.sun_path) {
    error = "socket path too long: " + path;
  } else if (!fd) {
    error = "cannot create a socket: " + common::errno_text(errno);
  } else {
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    // A Unix connect completes at once or not at all (EAGAIN: the server's
    // listen queue is full; it is not waited for).
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      error = path + ": " + common::errno_text(errno);
      fd.reset();
    }
  }
  added.fd = std::move(fd);
  added.last_error = error;
  added.kick.start(loop_, 0, [this, &added] {
    common::UniqueFd connected = std::move(added.fd);
    finish(added, std::move(connected), added.last_error);
  });
}

}  // namespace supervisor
