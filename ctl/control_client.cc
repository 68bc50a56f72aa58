#include "ctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/process.h"
#include "common/unique_fd.h"

namespace ctl {
namespace {

constexpr int kTimeoutMs = 10000;
constexpr size_t kMaxResponseBytes = 64 * 1024 * 1024;

}  // namespace

bool request(const std::string& socket_path, const nlohmann::json& message, nlohmann::json& response,
             std::string& error) {
  sockaddr_un address{};
  if (socket_path.size() >= sizeof address.sun_path) {
    error = "socket path too long: " + socket_path;
    return false;
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    error = "cannot reach portbrokerd at " + socket_path + ": " + common::errno_text(errno) + " (is it running?)";
    return false;
  }
  std::string out = message.dump() + "\n";
  for (size_t sent = 0; sent < out.size();) {
    ssize_t n = send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot send to " + socket_path + ": " + common::errno_text(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buffer[65536];
  for (;;) {
    pollfd waiting{fd.get(), POLLIN, 0};
    if (poll(&waiting, 1, kTimeoutMs) <= 0) {
      error = "no answer from portbrokerd at " + socket_path + " within " + std::to_string(kTimeoutMs / 1000) + " s";
      return false;
    }
    ssize_t n = recv(fd.get(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read from " + socket_path + ": " + common::errno_text(errno);
      return false;
    }
    if (n == 0) break;
    in.append(buffer, static_cast<size_t>(n));
    if (in.size() > kMaxResponseBytes) {
      error = "answer from portbrokerd is too large";
      return false;
    }
  }
  response = nlohmann::json::parse(in, nullptr, false);
  if (response.is_discarded()) {
    error = "portbrokerd answered something that is not JSON";
    return false;
  }
  return true;
}

}  // namespace ctl
