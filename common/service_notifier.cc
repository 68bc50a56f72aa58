#include "common/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace common {

ServiceNotifier::ServiceNotifier() {
  const char* variable = std::getenv("NOTIFY_SOCKET");
  if (variable == nullptr || variable[0] == '\0') return;
  address_ = variable;
  unsetenv("NOTIFY_SOCKET");
  sockaddr_un probe{};
  if ((address_[0] != '/' && address_[0] != '@') || address_.size() >= sizeof probe.sun_path) return;
  socket_ = UniqueFd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

void ServiceNotifier::send(std::string_view state) const {
  if (!socket_) return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, address_.data(), address_.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  // Best effort, like sd_notify: the service manager may not be listening.
  (void)sendto(socket_.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length);
}

void ServiceNotifier::ready(std::string_view status) const {
  send("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::reloading() const {
  // systemd wants the monotonic time of the reload's start with it.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
  send("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::stopping() const { send("STOPPING=1\nSTATUS=stopping"); }

}  // namespace common
