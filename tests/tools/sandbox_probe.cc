// portbroker-sandbox-probe: proves what a confined worker cannot do.
//
//   portbroker-sandbox-probe --operation NAME --handlers DIR [--uid N --gid N]
//                            [--read after-exit]
//
// Started like a worker, by the supervisor's own WorkerProcess (clone3 into
// new namespaces, the same fd and environment plumbing, the init message),
// the probe's child confines itself with the worker's own confinement code
// and then attempts one operation. The launcher prints one JSON object:
//   {"operation": ..., "sandbox": <report>, "outcome": {"result": "succeeded"|
//    "refused", "errno": "EPERM", ...} or null, "exit": "killed by signal
//    SIGSYS (seccomp: socket)"}
// An operation the filter forbids never reports an outcome: the process dies.
// `--read after-exit` lets the child finish before the launcher's loop first
// polls, so the loop sees the exit before anything the child sent: what a
// supervisor busy starting workers sees.

#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/process.h"
#include "common/uv_handle.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "policy/broker_config.h"
#include "supervisor/confinement_check.h"
#include "supervisor/worker_process.h"
#include "worker/confinement.h"

namespace {

constexpr int kChannelFd = 3;
constexpr uint64_t kProbeTimeoutMs = 20000;

// What an operation may use: the init message, a passed socket (a store
// connection) and the handlers folder the confinement opened.
struct Held {
  const ipc::WorkerInit& init;
  int store_fd;
  int handlers_fd;
};

nlohmann::json outcome_of(long rc) {
  if (rc >= 0) return {{"result", "succeeded"}};
  return {{"result", "refused"}, {"errno", strerrorname_np(errno)}};
}

void* thread_body(void*) { return nullptr; }

// Each attempt calls the kernel as directly as the C library allows, so the
// filter sees exactly the call named.
const std::map<std::string, std::function<nlohmann::json(const Held&)>>& operations() {
  static const std::map<std::string, std::function<nlohmann::json(const Held&)>> table = {
      // Must work: a sandbox that stops everything proves nothing.
      {"read_handler_file",
       [](const Held& held) {
         // As the module loader does: openat2 beneath the handlers folder.
         open_how how{};
         how.flags = O_RDONLY | O_CLOEXEC;
         how.resolve = RESOLVE_BENEATH;
         long fd = syscall(SYS_openat2, held.handlers_fd, "probe.txt", &how, sizeof how);
         char byte = 0;
         if (fd >= 0 && read(static_cast<int>(fd), &byte, 1) != 1) return outcome_of(-1);
         return outcome_of(fd);
       }},
      {"thread",
       [](const Held&) {
         pthread_t thread;
         errno = pthread_create(&thread, nullptr, thread_body, nullptr);
         if (errno != 0) return outcome_of(-1);
         return outcome_of(pthread_join(thread, nullptr) == 0 ? 0 : -1);
       }},
      {"use_passed_socket",
       [](const Held& held) { return outcome_of(send(held.store_fd, "x", 1, MSG_NOSIGNAL)); }},
      // Must fail.
      {"open_host_file", [](const Held&) { return outcome_of(open("/etc/passwd", O_RDONLY)); }},
      {"open_host_handlers_path",
       [](const Held& held) { return outcome_of(open(held.init.handlers_dir.c_str(), O_RDONLY)); }},
      {"create_in_handlers",
       [](const Held& held) {
         // openat2's flags are out of the filter's sight; the read-only mount refuses.
         open_how how{};
         how.flags = O_WRONLY | O_CREAT | O_CLOEXEC;
         how.mode = 0644;
         return outcome_of(syscall(SYS_openat2, held.handlers_fd, "planted.js", &how, sizeof how));
       }},
      {"openat2_elsewhere",
       [](const Held&) {
         open_how how{};
         how.flags = O_RDONLY | O_CLOEXEC;
         return outcome_of(syscall(SYS_openat2, AT_FDCWD, "/proc/self/status", &how, sizeof how));
       }},
      {"open_truncate",
       [](const Held&) { return outcome_of(open("/handlers/probe.txt", O_RDONLY | O_TRUNC | O_CLOEXEC)); }},
      {"set_linger",
       [](const Held& held) {
         linger value{1, 3600};
         return outcome_of(syscall(SYS_setsockopt, held.store_fd, SOL_SOCKET, SO_LINGER, &value, sizeof value));
       }},
      {"signal_owner",
       [](const Held& held) { return outcome_of(syscall(SYS_fcntl, held.store_fd, F_SETOWN, 1)); }},
      {"signal_other_process",
       [](const Held&) { return outcome_of(syscall(SYS_tgkill, 2, 2, 0)); }},
      {"replace_sigsys_handler",
       [](const Held&) {
         struct sigaction ignore {};
         ignore.sa_handler = SIG_IGN;
         return outcome_of(sigaction(SIGSYS, &ignore, nullptr));
       }},
      {"open_for_write", [](const Held&) { return outcome_of(open("/handlers/probe.txt", O_WRONLY)); }},
      {"socket", [](const Held&) { return outcome_of(syscall(SYS_socket, AF_INET, SOCK_STREAM, 0)); }},
      {"socket_unix",
       [](const Held&) { return outcome_of(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0)); }},
      {"connect",
       [](const Held& held) {
         sockaddr_un address{};
         address.sun_family = AF_UNIX;
         std::strcpy(address.sun_path, "/run/portbroker/control.sock");
         return outcome_of(syscall(SYS_connect, held.store_fd, &address, sizeof address));
       }},
      {"bind",
       [](const Held& held) {
         sockaddr_un address{};
         address.sun_family = AF_UNIX;
         return outcome_of(syscall(SYS_bind, held.store_fd, &address, sizeof(sa_family_t)));
       }},
      {"listen", [](const Held& held) { return outcome_of(syscall(SYS_listen, held.store_fd, 1)); }},
      {"execve",
       [](const Held&) {
         char* argv[] = {const_cast<char*>("/bin/sh"), nullptr};
         return outcome_of(syscall(SYS_execve, "/bin/sh", argv, nullptr));
       }},
      {"fork", [](const Held&) { return outcome_of(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)); }},
      {"thread_in_new_namespace",
       [](const Held&) {
         return outcome_of(
             syscall(SYS_clone, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWNET, 0, 0, 0, 0));
       }},
      {"mount",
       [](const Held&) { return outcome_of(syscall(SYS_mount, "none", "/", "tmpfs", 0, nullptr)); }},
      {"ptrace",
       [](const Held&) { return outcome_of(syscall(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0)); }},
      {"setuid_root", [](const Held&) { return outcome_of(syscall(SYS_setuid, 0)); }},
      {"unshare", [](const Held&) { return outcome_of(syscall(SYS_unshare, CLONE_NEWUSER)); }},
      {"kill", [](const Held&) { return outcome_of(syscall(SYS_kill, 1, 0)); }},
      {"init_module",
       [](const Held&) { return outcome_of(syscall(SYS_init_module, nullptr, 0, "")); }},
      {"keyctl", [](const Held&) { return outcome_of(syscall(SYS_keyctl, 0, 0, 0, 0, 0)); }},
      {"bpf", [](const Held&) { return outcome_of(syscall(SYS_bpf, 0, nullptr, 0)); }},
      {"raise_open_files",
       [](const Held&) {
         rlimit limit{RLIM_INFINITY, RLIM_INFINITY};
         return outcome_of(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &limit, nullptr));
       }},
      {"terminal_injection",
       [](const Held&) {
         char c = 'x';
         return outcome_of(syscall(SYS_ioctl, 0, TIOCSTI, &c));
       }},
      {"chroot", [](const Held&) { return outcome_of(syscall(SYS_chroot, "/handlers")); }},
  };
  return table;
}

// ---- the confined side ----

int run_confined() {
  pollfd waiting{kChannelFd, POLLIN, 0};
  if (poll(&waiting, 1, static_cast<int>(kProbeTimeoutMs)) != 1) return 2;
  ipc::ReceivedMessage message;
  ipc::WorkerInit init;
  if (ipc::receive_message(kChannelFd, message) != ipc::IoResult::ok || !ipc::decode(message.bytes(), init) ||
      message.fds().size() != 2) {
    return 2;
  }
  auto confinement = worker::confine_worker(init, kChannelFd);
  if (!confinement.ok) {
    ipc::send_message(kChannelFd, ipc::encode(ipc::WorkerFailed{confinement.fatal, {}}));
    return 1;
  }
  ipc::send_message(kChannelFd, ipc::encode(confinement.report));
  auto operation = operations().find(init.module_file);
  if (operation == operations().end()) return 3;
  nlohmann::json outcome = operation->second(Held{init, message.fds()[0].get(), confinement.handlers_dir.get()});
  // A ready message carries the outcome back (its field is free-form JSON).
  ipc::send_message(kChannelFd, ipc::encode(ipc::WorkerReady{outcome.dump(), {}}));
  return 0;
}

// ---- the launcher ----

int usage(const char* why) {
  std::fprintf(stderr, "portbroker-sandbox-probe: %s\n", why);
  std::fprintf(stderr,
               "usage: portbroker-sandbox-probe --operation NAME --handlers DIR [--uid N --gid N] [--read after-exit]\n");
  std::fprintf(stderr, "operations:");
  for (const auto& [name, _] : operations()) std::fprintf(stderr, " %s", name.c_str());
  std::fprintf(stderr, "\n");
  return 64;
}

int run_launcher(int argc, char** argv) {
  std::string operation;
  std::string handlers;
  uint32_t uid = 65534;
  uint32_t gid = 65534;
  bool read_after_exit = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    if (name == "--operation") operation = argv[i + 1];
    else if (name == "--handlers") handlers = argv[i + 1];
    else if (name == "--uid") uid = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (name == "--gid") gid = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (name == "--read" && std::string_view(argv[i + 1]) == "after-exit") read_after_exit = true;
    else return usage(("unknown option " + name).c_str());
  }
  if (operations().count(operation) == 0) return usage("unknown or missing --operation");
  if (handlers.empty()) return usage("--handlers is required");

  uv_loop_t loop;
  uv_loop_init(&loop);
  nlohmann::json result = {{"operation", operation}, {"sandbox", nullptr}, {"outcome", nullptr},
                           {"failed", nullptr}, {"exit", nullptr}};
  uv_timer_t deadline;
  uv_timer_init(&loop, &deadline);
  // In its own scope, so that the worker's handles are closed before the
  // loop is drained: nothing is left allocated at exit (LeakSanitizer).
  int status = [&]() -> int {
    supervisor::WorkerProcess probe(
        &loop, "probe",
        supervisor::WorkerProcess::Events{
            .ready = [&](const ipc::WorkerReady& ready) { result["outcome"] = nlohmann::json::parse(ready.access_json); },
            .failed = [&](const ipc::WorkerFailed& failed) { result["failed"] = failed.reason; },
            .replies = nullptr,
            .exited =
                [&](const std::string& description) {
                  result["exit"] = description;
                  uv_stop(&loop);
                },
            .drained = nullptr,
            .handoff_failed = nullptr,
            .sandbox = [&](const ipc::WorkerSandbox& report) { result["sandbox"] = supervisor::sandbox_status(report); },
            .connection_closed = nullptr,
            .tls_stats = nullptr,
            .tls_certificate_request = nullptr,
            .store_reconnect = nullptr,
            .modules_loaded = nullptr,
            .egress_connect = nullptr,
            .egress_lookup = nullptr,
        });
    // The broker's own defaults, as a worker would get them.
    policy::BrokerConfig::Worker defaults;
    ipc::WorkerInit init{
        .handler_name = "probe",
        .tenant = "",
        .module_file = operation,
        .handlers_dir = handlers,
        .transport = "tcp",
        .port = 0,
        .log_level = "warn",
        .open_timeout_ms = 0,
        .sandbox = true,
        .uid = uid,
        .gid = gid,
        .outer_uid = static_cast<uint32_t>(getuid()),
        .outer_gid = static_cast<uint32_t>(getgid()),
        .open_files = defaults.open_files,
        .processes = defaults.processes,
        .address_space_bytes = defaults.address_space_mb << 20,
        .heap_bytes = defaults.heap_mb << 20,
        .memory_bytes = defaults.memory_mb << 20,
        .cpu_limit_ms = defaults.cpu_limit_ms,
        .tls_json = "",
    };
    // Stand-ins for the two store connections every worker receives.
    int store[2][2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, store[0]) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, store[1]) != 0) {
      std::perror("socketpair");
      return 1;
    }
    char self[4096] = {};
    if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) {
      std::perror("readlink /proc/self/exe");
      return 1;
    }
    std::string error;
    if (!probe.start(self, init, common::UniqueFd(store[0][1]), common::UniqueFd(store[1][1]), error)) {
      std::fprintf(stderr, "portbroker-sandbox-probe: %s\n", error.c_str());
      return 1;
    }
    if (read_after_exit) {
      // Waits for the exit without reaping: the loop's first poll then finds
      // the process's watcher ready ahead of the channel's.
      siginfo_t info{};
      waitid(P_PID, static_cast<id_t>(probe.pid()), &info, WEXITED | WNOWAIT);
    }
    uv_timer_start(
        &deadline, [](uv_timer_t* timer) { uv_stop(timer->loop); }, kProbeTimeoutMs, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (result["exit"].is_null()) {
      probe.kill();
      result["exit"] = "did not finish";
    }
    std::printf("%s\n", result.dump().c_str());
    close(store[0][0]);
    close(store[1][0]);
    return 0;
  }();
  common::drain_and_close_loop(&loop);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--channel-fd") == 0) return run_confined();
  }
  return run_launcher(argc, argv);
}
