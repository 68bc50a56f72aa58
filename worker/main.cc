// portbroker-worker: runs one handler module for the supervisor. Started with
// the supervisor channel as fd 3 in namespaces of its own; everything else (the
// handler's name, file and port, how to confine itself, the store
// connections) arrives in the init message. The order matters: confinement
// is complete before the JavaScript engine starts its threads and before any
// handler code is read.

#include <js/Initialization.h>
#include <signal.h>
#include <uv.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>
#include <string>

#include "common/log.h"
#include "common/process.h"
#include "ipc/messages.h"
#include "sandbox/violation_report.h"
#include "worker/confinement.h"
#include "worker/runtime.h"
#include "worker/supervisor_link.h"

static_assert(sandbox::kViolationMessageType == static_cast<uint16_t>(ipc::MessageType::seccomp_violation),
              "the SIGSYS report and the channel must agree on the message type");

namespace {

constexpr int kInitTimeoutMs = 30000;
constexpr int kDefaultChannelFd = 3;

// JS_Init/JS_ShutDown bracket every use of the engine in the process.
class EngineProcess {
 public:
  EngineProcess() : ok_(JS_Init()) {}
  ~EngineProcess() {
    if (ok_) JS_ShutDown();
  }
  EngineProcess(const EngineProcess&) = delete;
  EngineProcess& operator=(const EngineProcess&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

// `portbroker-worker --check DIR FILE tcp|udp` (run by `portbrokerctl check`):
// compiles and links FILE and its imports without running them, prints one
// JSON line {"ok", "error", "modules"} and exits 0 if it would load, 1 if not.
// Parsing is all it does, yet it reads files it did not choose: run as root,
// it first becomes `nobody` with no_new_privs.
int run_check(int argc, char** argv) {
  if (argc != 5 || (std::strcmp(argv[4], "tcp") != 0 && std::strcmp(argv[4], "udp") != 0)) {
    std::fputs("usage: portbroker-worker --check HANDLERS_DIR FILE tcp|udp\n", stderr);
    return 2;
  }
  common::UniqueFd folder(open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!folder) {
    std::fprintf(stderr, "portbroker-worker: cannot open %s: %s\n", argv[2], std::strerror(errno));
    return 2;
  }
  if (geteuid() == 0) {
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr || setgroups(0, nullptr) != 0 || setgid(nobody->pw_gid) != 0 || setuid(nobody->pw_uid) != 0) {
      std::fputs("portbroker-worker: cannot drop root privileges for the check\n", stderr);
      return 2;
    }
  }
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  ipc::WorkerInit init;
  init.handlers_dir = argv[2];
  init.module_file = argv[3];
  init.transport = argv[4];
  uv_loop_t loop;
  uv_loop_init(&loop);
  nlohmann::json result;
  {
    EngineProcess engine;
    if (!engine.ok()) return 2;
    worker::SupervisorLink unused{common::UniqueFd()};
    worker::Runtime runtime(&loop, init, unused);
    std::string error = runtime.check_handler(std::move(folder));
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& module : runtime.loaded_modules()) modules.push_back(module.path);
    result = {{"ok", error.empty()}, {"error", error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error)},
              {"modules", modules}};
  }
  common::drain_and_close_loop(&loop);
  std::puts(result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return result["ok"].get<bool>() ? 0 : 1;
}

int parse_channel_fd(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--channel-fd") == 0) return std::atoi(argv[i + 1]);
  }
  return kDefaultChannelFd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--check") == 0) return run_check(argc, argv);
  common::die_with_parent();
  // The supervisor decides when workers stop; a terminal's Ctrl-C goes to it.
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  int channel_fd = parse_channel_fd(argc, argv);
  worker::SupervisorLink link{common::UniqueFd(channel_fd)};
  ipc::WorkerInit init;
  std::vector<common::UniqueFd> fds;
  std::string error;
  if (!link.receive_init(init, fds, kInitTimeoutMs, error)) {
    common::log::error("worker-init-failed").kv("reason", error);
    return 2;
  }
  common::log::add_process_field("handler", init.handler_name);
  if (auto level = common::log::parse_level(init.log_level)) common::log::set_min_level(*level);
  if (fds.size() != 2) {
    common::log::error("worker-init-failed").kv("reason", "expected two store connections");
    return 2;
  }

  // Confinement, before the engine exists (it starts threads, and
  // capabilities and no_new_privs are per thread).
  auto confinement = worker::confine_worker(init, channel_fd);
  if (!confinement.ok) {
    // Fail closed: handler code never runs in a sandbox that did not build.
    link.send(ipc::encode(ipc::WorkerFailed{confinement.fatal, {}}));
    return 1;
  }
  link.send(ipc::encode(confinement.report));

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    EngineProcess engine;
    if (!engine.ok()) {
      common::log::error("worker-init-failed").kv("reason", "JS_Init failed");
      return static_cast<int>(ipc::WorkerExit::engine_stopped);
    }
    worker::Runtime runtime(&loop, init, link);
    if (!runtime.boot(std::move(confinement.handlers_dir), std::move(confinement.statm), error)) {
      common::log::error("worker-init-failed").kv("reason", error);
      link.send(ipc::encode(ipc::WorkerFailed{"internal error: " + error, {}}));
      return static_cast<int>(ipc::WorkerExit::engine_stopped);
    }
    link.start(&loop, runtime);
    runtime.start_handler(fds[0].release(), fds[1].release());
    uv_run(&loop, UV_RUN_DEFAULT);
    exit_code = runtime.exit_code();
    link.close();
  }
  common::drain_and_close_loop(&loop);
  return exit_code;
}
