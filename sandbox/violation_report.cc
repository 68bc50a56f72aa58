#include "sandbox/violation_report.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace sandbox {
namespace {

int g_channel_fd = -1;

// Only async-signal-safe work: a fixed-size message and a re-raise.
void on_sigsys(int, siginfo_t* info, void*) {
  if (g_channel_fd >= 0) {
    unsigned char message[6];
    uint16_t type = kViolationMessageType;
    uint32_t syscall_nr = static_cast<uint32_t>(info->si_syscall);
    std::memcpy(message, &type, sizeof type);
    std::memcpy(message + 2, &syscall_nr, sizeof syscall_nr);
    send(g_channel_fd, message, sizeof message, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  // Not a re-raise: as PID 1 of its own namespace the process would ignore a
  // default-action signal it sends itself. The exit status says it instead.
  _exit(kViolationExitStatus);
}

}  // namespace

void install_violation_report(int channel_fd) {
  g_channel_fd = channel_fd;
  struct sigaction action {};
  action.sa_sigaction = on_sigsys;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSYS, &action, nullptr);
}

}  // namespace sandbox
