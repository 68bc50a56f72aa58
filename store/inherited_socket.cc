#include "store/inherited_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

#include "common/process.h"

namespace store {

std::optional<std::string> check_socket_type(int fd, int type, const char* type_name) {
  std::string name = "fd " + std::to_string(fd);
  struct stat info {};
  if (fd < 0 || fstat(fd, &info) != 0) return name + ": " + common::errno_text(fd < 0 ? EBADF : errno);
  if (!S_ISSOCK(info.st_mode)) return name + " is not a socket";
  int actual = 0;
  socklen_t length = sizeof actual;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &actual, &length) != 0 || actual != type) {
    return name + " is not a " + type_name + " socket";
  }
  return std::nullopt;
}

}  // namespace store
