#pragma once
// What the kernel counts for a TCP connection (TCP_INFO): bytes each way and
// how long since data last moved. Read from the supervisor's own reference to
// a socket a worker serves, so the numbers are the kernel's, not the worker's.

#include <cstdint>

namespace supervisor {

struct TcpTraffic {
  bool known = false;  // false: the socket could not be asked
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;  // acknowledged by the peer
  uint64_t idle_ms = 0;     // since data last moved in either direction
};

TcpTraffic tcp_traffic(int fd);

}  // namespace supervisor
