// portbroker-loadgen: a load generator for benchmarks (loopback only).
//
//   udp       request/reply: keeps --window requests in flight on one socket,
//             counts replies per second and their round-trip latency.
//   connect, pingpong, stream, idle: TCP (bench/tcp_load.cc).
//
// Prints one JSON object with the rate and latency percentiles, so a driver
// can take medians over repeated runs.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/unique_fd.h"

#include "bench/load_common.h"

namespace bench {

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {

[[noreturn]] void usage(const char* error) {
  std::fprintf(stderr,
               "portbroker-loadgen: %s\n"
               "usage: portbroker-loadgen udp|connect|pingpong|stream|idle --port P [--host H] [--window N]\n"
               "         [--connections N] [--seconds S] [--warmup S] [--payload BYTES] [--match any]\n",
               error);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options options;
  if (argc < 2) usage("a mode is required");
  options.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--host") options.host = value;
    else if (arg == "--port") options.port = static_cast<uint16_t>(std::atoi(value));
    else if (arg == "--window") options.window = std::max(1, std::atoi(value));
    else if (arg == "--connections") options.connections = std::max(1, std::atoi(value));
    else if (arg == "--seconds") options.seconds = std::atof(value);
    else if (arg == "--warmup") options.warmup = std::atof(value);
    else if (arg == "--payload") options.payload = static_cast<size_t>(std::max(8, std::atoi(value)));
    else if (arg == "--match") options.match_any = std::string(value) == "any";
    else usage(("unknown option " + arg).c_str());
  }
  if (options.port == 0) usage("--port is required");
  return options;
}

double percentile(std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return static_cast<double>(sorted[index]) / 1000.0;  // microseconds
}

}  // namespace

void report(const std::string& mode, uint64_t completed, double elapsed_s, std::vector<uint64_t>& latencies_ns,
            uint64_t errors, uint64_t bytes) {
  std::sort(latencies_ns.begin(), latencies_ns.end());
  std::printf(
      "{\"mode\":\"%s\",\"completed\":%llu,\"seconds\":%.3f,\"rate\":%.1f,\"errors\":%llu,\"bytes_per_s\":%.1f,"
      "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}}\n",
      mode.c_str(), static_cast<unsigned long long>(completed), elapsed_s, static_cast<double>(completed) / elapsed_s,
      static_cast<unsigned long long>(errors), static_cast<double>(bytes) / elapsed_s, percentile(latencies_ns, 0.5),
      percentile(latencies_ns, 0.9), percentile(latencies_ns, 0.99), percentile(latencies_ns, 1.0));
  std::fflush(stdout);
}

// Each request carries its slot and send time; the reply is matched by slot
// (the payload is echoed back, or at least the first 16 bytes). With
// --match any, a reply answers the oldest request still out.
int run_udp(const Options& options) {
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.host.c_str(), &target.sin_addr) != 1) usage("--host must be an IPv4 address");
  common::UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
    std::perror("udp socket");
    return 1;
  }
  timeval timeout{0, 200000};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  std::vector<uint8_t> request(options.payload, 'x');
  std::vector<uint8_t> reply(65536);
  std::vector<uint64_t> sent_at(static_cast<size_t>(options.window), 0);
  std::vector<uint64_t> latencies;
  latencies.reserve(1 << 20);
  auto send_slot = [&](uint32_t slot) {
    uint64_t t = now_ns();
    sent_at[slot] = t;
    std::memcpy(request.data(), &slot, sizeof slot);
    std::memcpy(request.data() + 4, &t, sizeof t);
    return send(fd.get(), request.data(), request.size(), 0) >= 0;
  };
  for (int slot = 0; slot < options.window; ++slot) send_slot(static_cast<uint32_t>(slot));

  uint64_t start = now_ns();
  uint64_t measure_from = start + static_cast<uint64_t>(options.warmup * 1e9);
  uint64_t end = measure_from + static_cast<uint64_t>(options.seconds * 1e9);
  uint64_t completed = 0;
  uint64_t errors = 0;
  for (;;) {
    uint64_t t = now_ns();
    if (t >= end) break;
    ssize_t n = recv(fd.get(), reply.data(), reply.size(), 0);
    if (options.match_any && n > 0) {
      uint32_t oldest = 0;
      for (uint32_t slot = 1; slot < sent_at.size(); ++slot) {
        if (sent_at[slot] < sent_at[oldest]) oldest = slot;
      }
      uint64_t received = now_ns();
      if (received >= measure_from) {
        ++completed;
        latencies.push_back(received - sent_at[oldest]);
      }
      send_slot(oldest);
      continue;
    }
    if (n < 12) {
      // Lost datagrams: resend every slot that waited too long.
      ++errors;
      uint64_t now = now_ns();
      for (uint32_t slot = 0; slot < sent_at.size(); ++slot) {
        if (now - sent_at[slot] > 200000000ull) send_slot(slot);
      }
      continue;
    }
    uint32_t slot;
    uint64_t sent;
    std::memcpy(&slot, reply.data(), sizeof slot);
    std::memcpy(&sent, reply.data() + 4, sizeof sent);
    if (slot >= sent_at.size() || sent != sent_at[slot]) continue;  // a stale duplicate
    uint64_t received = now_ns();
    if (received >= measure_from) {
      ++completed;
      latencies.push_back(received - sent);
    }
    send_slot(slot);
  }
  report("udp", completed, options.seconds, latencies, errors);
  return 0;
}

}  // namespace bench

int main(int argc, char** argv) {
  bench::Options options = bench::parse(argc, argv);
  if (options.mode == "udp") return bench::run_udp(options);
  if (options.mode == "connect" || options.mode == "pingpong" || options.mode == "stream" || options.mode == "idle") {
    return bench::run_tcp(options);
  }
  bench::usage(("unknown mode " + options.mode).c_str());
}
