// portbroker-hostile-worker: stands in for a worker whose handler code took
// the process over, and speaks the supervisor channel as an attacker would.
//
// The supervisor starts it as `portbroker-worker` (a test puts it beside a
// copy of portbrokerd). It peeks at the init message: a handler named
// `hostile-<attack>` runs that attack; any other handler is served by the
// real worker (../bin/portbroker-worker from this program), so one broker
// holds attacked and ordinary handlers side by side. Each attack confines
// itself first with the worker's own code, so the supervisor's checks pass
// exactly as for a real worker, then sends what a compromised worker could.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ipc/channel.h"
#include "ipc/messages.h"
#include "ipc/wire.h"
#include "worker/confinement.h"

namespace {

constexpr int kChannelFd = 3;
constexpr int kWaitMs = 30000;
// The kernel's SCM_MAX_FD: the most descriptors one message may carry.
constexpr size_t kKernelMaxFds = 253;

using Bytes = std::vector<uint8_t>;

// A type and one length-prefixed text, as messages were before they had typed fields.
Bytes raw(uint16_t type, std::string_view body) {
  ipc::WireWriter writer;
  writer.put(type);
  writer.put_string(body);
  return {writer.bytes().begin(), writer.bytes().end()};
}

void send(const Bytes& bytes, std::span<const int> fds = {}) {
  // The channel is non-blocking; an attacker retries until it goes.
  for (;;) {
    auto result = ipc::send_message(kChannelFd, bytes, fds);
    if (result != ipc::IoResult::would_block) return;
    pollfd writable{kChannelFd, POLLOUT, 0};
    if (poll(&writable, 1, kWaitMs) != 1) return;
  }
}

ipc::TlsCertificateRequest request_for(const std::string& name) {
  return {name, "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"};
}

struct Held {
  const ipc::WorkerInit& init;
  const ipc::WorkerSandbox& report;
  int store_fd;
};

// Each attack sends its messages; the supervisor should end the worker.
const std::map<std::string, std::function<void(const Held&)>>& attacks() {
  static const std::map<std::string, std::function<void(const Held&)>> table = {
      // The audit's 36-byte message: the request as JSON with a number for
      // the name, which once made the root supervisor abort.
      {"json-name", [](const Held&) { send(raw(107, R"({"name":1})")); }},
      // Certificate requests without ever reading the answers: the
      // supervisor's queue of answers would grow without bound.
      {"request-flood",
       [](const Held&) {
         for (int i = 0; i < 50000; ++i) send(ipc::encode(request_for("n" + std::to_string(i) + ".example.com")));
       }},
      {"unknown-type", [](const Held&) { send(raw(999, "whatever")); }},
      // A message only the supervisor sends: a connection hand-off.
      {"supervisor-type", [](const Held&) { send(ipc::encode(ipc::ConnectionHandoff{1, {}, {}})); }},
      // Descriptors never go from a worker to the supervisor.
      {"with-fd",
       [](const Held& held) {
         int fds[] = {held.store_fd};
         send(ipc::encode(ipc::TlsStats{1, {}}), fds);
       }},
      {"sandbox-twice", [](const Held& held) { send(ipc::encode(held.report)); }},
      // Larger than any message may be: the receive is truncated.
      {"oversized",
       [](const Held&) {
         // Past send_message's own check, straight to the socket.
         static const Bytes huge(2 * ipc::kMaxMessageBytes, 0x41);
         (void)::send(kChannelFd, huge.data(), huge.size(), 0);
       }},
      // Frames of random bytes: no valid type, lengths that lie.
      {"garbage",
       [](const Held&) {
         std::mt19937 random(20261206);
         for (int i = 0; i < 64; ++i) {
           Bytes noise(1 + random() % 4096);
           for (auto& byte : noise) byte = static_cast<uint8_t>(random());
           (void)::send(kChannelFd, noise.data(), noise.size(), MSG_DONTWAIT);
         }
       }},
      // Descriptors by the thousand: as many per message as the kernel
      // takes (far past what the supervisor's receive has room for), in
      // message after message. Every one must be closed, none kept.
      {"fd-flood",
       [](const Held& held) {
         std::vector<int> fds(kKernelMaxFds, held.store_fd);
         alignas(cmsghdr) static char control[CMSG_SPACE(sizeof(int) * kKernelMaxFds)];
         for (int i = 0; i < 200; ++i) {
           uint8_t byte = 0;
           iovec iov{&byte, 1};
           msghdr msg{};
           msg.msg_iov = &iov;
           msg.msg_iovlen = 1;
           msg.msg_control = control;
           msg.msg_controllen = sizeof control;
           cmsghdr* header = CMSG_FIRSTHDR(&msg);
           header->cmsg_level = SOL_SOCKET;
           header->cmsg_type = SCM_RIGHTS;
           header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
           std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
           if (::sendmsg(kChannelFd, &msg, MSG_DONTWAIT) < 0) break;
         }
       }},
      // Statistics with a reason no real worker reports (control characters).
      {"bad-stats", [](const Held&) { send(ipc::encode(ipc::TlsStats{1, {{"\x1b[31mred", 1}}})); }},
      // Says it is ready, then asks the broker to look names up without
      // ever reading an answer: answers the supervisor owes a worker that
      // does not read must not pile up in the supervisor without bound.
      // Stops at the hang-up.
      {"deaf",
       [](const Held&) {
         send(ipc::encode(ipc::WorkerReady{"", {}}));
         const std::string name = std::string(200, 'n') + ".invalid";
         for (uint32_t id = 1; id < 200000; ++id) {
           pollfd writable{kChannelFd, POLLOUT, 0};
           if (poll(&writable, 1, kWaitMs) != 1 || (writable.revents & (POLLHUP | POLLERR))) break;
           if (ipc::send_message(kChannelFd, ipc::encode(ipc::EgressLookup{id, name, 0})) == ipc::IoResult::closed) break;
         }
         pollfd hangup{kChannelFd, 0, 0};
         poll(&hangup, 1, kWaitMs);
         std::_Exit(0);
       }},
      // Forged log lines on its stderr: another handler's failure, with an
      // escape sequence that would recolour an operator's terminal.
      {"forged-log",
       [](const Held&) {
         for (int i = 0; i < 20000; ++i) {
           std::fprintf(stderr, "ts=2026-01-01T00:00:00.000Z level=error event=handler-failed handler=victim "
                                "reason=forged \x1b[2J\r\n");
         }
         std::fflush(stderr);
         // Then behaves, so the supervisor keeps it: the log is the attack.
         send(ipc::encode(ipc::WorkerReady{"", {}}));
       }},
  };
  return table;
}

// Waits until the supervisor closes the channel (it ends the worker).
void linger() {
  pollfd readable{kChannelFd, POLLIN, 0};
  char buffer[ipc::kMaxMessageBytes];
  for (;;) {
    if (poll(&readable, 1, kWaitMs) != 1) return;
    if (recv(kChannelFd, buffer, sizeof buffer, 0) <= 0) return;
  }
}

// The init message, without taking it off the channel (and closing the
// descriptors a peek duplicates into this process).
bool peek_init(ipc::WorkerInit& init) {
  pollfd readable{kChannelFd, POLLIN, 0};
  if (poll(&readable, 1, kWaitMs) != 1) return false;
  static uint8_t buffer[ipc::kMaxMessageBytes];
  iovec iov{buffer, sizeof buffer};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * ipc::kMaxFdsPerMessage)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(kChannelFd, &msg, MSG_PEEK | MSG_CMSG_CLOEXEC);
  if (n <= 0) return false;
  for (cmsghdr* header = CMSG_FIRSTHDR(&msg); header != nullptr; header = CMSG_NXTHDR(&msg, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      close(fd);
    }
  }
  return ipc::decode(std::span<const uint8_t>(buffer, static_cast<size_t>(n)), init);
}

int attack(const std::string& name) {
  ipc::ReceivedMessage message;
  ipc::WorkerInit init;
  if (ipc::receive_message(kChannelFd, message) != ipc::IoResult::ok || !ipc::decode(message.bytes(), init) ||
      message.fds().size() != 2) {
    return 2;
  }
  auto confinement = worker::confine_worker(init, kChannelFd);
  if (!confinement.ok) return 1;
  send(ipc::encode(confinement.report));
  auto found = attacks().find(name);
  if (found == attacks().end()) {
    std::fprintf(stderr, "portbroker-hostile-worker: no attack named '%s'\n", name.c_str());
    return 3;
  }
  found->second(Held{init, confinement.report, message.fds()[0].get()});
  linger();
  return 0;
}

}  // namespace

int main(int, char** argv) {
  ipc::WorkerInit init;
  if (!peek_init(init)) return 2;
  constexpr std::string_view kPrefix = "hostile-";
  if (std::string_view(init.handler_name).starts_with(kPrefix)) return attack(init.handler_name.substr(kPrefix.size()));
  // An ordinary handler: the real worker, with the channel untouched.
  char self[PATH_MAX] = {};
  if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return 2;
  std::string real = (std::filesystem::path(self).parent_path().parent_path() / "bin" / "portbroker-worker").string();
  argv[0] = real.data();
  execv(real.c_str(), argv);
  std::perror("portbroker-hostile-worker: exec the real worker");
  return 2;
}
