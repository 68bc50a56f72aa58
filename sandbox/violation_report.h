#pragma once
// What happens when a confined process makes a forbidden system call: the
// seccomp filter traps (SIGSYS); this handler sends the call's number to the
// supervisor over the process's channel (so the log can name it), then ends
// the process with kViolationExitStatus.

#include <cstdint>

namespace sandbox {

// `channel_fd` is the SOCK_SEQPACKET channel to the supervisor (-1: none).
void install_violation_report(int channel_fd);

// The report message: MessageType seccomp_violation (u16) then the syscall
// number (u32), host byte order like every channel message.
inline constexpr uint16_t kViolationMessageType = 104;
// 128 + SIGSYS, the status a shell shows for a process killed by SIGSYS.
inline constexpr int kViolationExitStatus = 159;

}  // namespace sandbox
