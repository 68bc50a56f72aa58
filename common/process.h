#pragma once
// Small process-level utilities shared by the executables.

#include <string>
#include <string_view>

namespace common {

// Helper executables (portbroker-worker, portbroker-store) are looked up next to
// the running executable first (build tree), then in the install's libexec dir.
std::string find_helper_executable(std::string_view name);

// Directory holding the running executable.
std::string executable_dir();

// A helper must not outlive the supervisor that started it: ask the kernel to
// kill it when the parent dies, and exit at once if that already happened.
void die_with_parent();
// Called by the supervisor before it starts helpers: tells them its pid.
void announce_supervisor();
inline constexpr const char* kSupervisorPidVariable = "PORTBROKER_SUPERVISOR_PID";
// Set by the supervisor for every child: the namespaces its clone created,
// comma-separated ("user,mnt,net,pid,ipc,uts"), so the child knows them
// rather than guessing (a container's user namespace is not one of them).
inline constexpr const char* kNamespacesVariable = "PORTBROKER_NAMESPACES";

// Raises the soft open-files limit to the hard limit; returns the new soft limit.
unsigned long raise_open_file_limit();

bool set_nonblocking(int fd, bool nonblocking);
bool set_cloexec(int fd, bool cloexec);

std::string errno_text(int errnum);

}  // namespace common
