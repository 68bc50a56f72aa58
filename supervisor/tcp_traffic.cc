#include "supervisor/tcp_traffic.h"

// The kernel's own tcp_info: glibc's lacks the byte counters. Kept apart
// from <netinet/tcp.h> (which libuv's header brings in), as the two clash.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace supervisor {

TcpTraffic tcp_traffic(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return {};
  return {true, info.tcpi_bytes_received, info.tcpi_bytes_acked,
          std::min(info.tcpi_last_data_recv, info.tcpi_last_data_sent)};
}

}  // namespace supervisor
