#pragma once
// What every load generator mode shares: its options, the clock, and the
// one-line JSON report a driver takes medians over.

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int window = 32;       // udp: requests in flight
  int connections = 1;   // tcp modes: concurrent connections (clients)
  double seconds = 3;
  double warmup = 0.5;
  size_t payload = 32;
  bool match_any = false;  // udp: any reply answers the oldest request (handlers that do not echo)
};

uint64_t now_ns();
// Prints {"mode", "completed", "seconds", "rate", "errors", "bytes_per_s", "latency_us": {p50, p90, p99, max}}.
void report(const std::string& mode, uint64_t completed, double elapsed_s, std::vector<uint64_t>& latencies_ns,
            uint64_t errors, uint64_t bytes = 0);

int run_udp(const Options& options);
// connect: connect, read the greeting line, one echo, close; repeated by every client.
// pingpong: each connection sends `payload` bytes and waits for all of them back, again and again.
// stream: each connection writes continuously and counts what comes back.
// idle: opens `connections` connections, reads their greetings, holds them `seconds`.
int run_tcp(const Options& options);

}  // namespace bench
