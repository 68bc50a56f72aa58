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
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <string>

#include "common/confined_sanitizer_options.h"
#include "common/log.h"
#include "common/process.h"
#include "ipc/messages.h"
#include "sandbox/violation_report.h"
#include "worker/confinement.h"
#include "worker/http_transfers.h"
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

int parse_channel_fd(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--channel-fd") == 0) return std::atoi(argv[i + 1]);
  }
  return kDefaultChannelFd;
}

}  // namespace

int main(int argc, char** argv) {
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
  if (!init.tenant.empty()) common::log::add_process_field("tenant", init.tenant);
  if (auto level = common::log::parse_level(init.log_level)) common::log::set_min_level(*level);
  if (fds.size() != 2) {
    common::log::error("worker-init-failed").kv("reason", "expected two store connections");
    return 2;
  }

  // fetch()'s libcurl handle opens a socketpair, which the sandbox forbids.
  std::unique_ptr<worker::CurlMulti> curl_multi;
  if (init.http_client) {
    curl_multi = worker::CurlMulti::create(error);
    // fetch() then fails with "HTTP client unavailable"; net and tls still connect.
    if (!curl_multi) common::log::error("http-client-unavailable").kv("reason", error);
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
  if (init.check_only) {
    // `portbrokerctl check`: the same confinement as every worker, then the
    // module compiled and linked, none of it run.
    int status = 0;
    {
      EngineProcess engine;
      if (!engine.ok()) return static_cast<int>(ipc::WorkerExit::engine_stopped);
      worker::Runtime runtime(&loop, init, link);
      std::string problem = runtime.check_handler(std::move(confinement.handlers_dir));
      auto modules = runtime.loaded_modules();
      if (problem.empty()) {
        link.send(ipc::encode(ipc::WorkerReady{"", modules}));
      } else {
        link.send(ipc::encode(ipc::WorkerFailed{problem, modules}));
        status = 1;
      }
    }
    common::drain_and_close_loop(&loop);
    return status;
  }
  int exit_code = 0;
  {
    EngineProcess engine;
    if (!engine.ok()) {
      common::log::error("worker-init-failed").kv("reason", "JS_Init failed");
      return static_cast<int>(ipc::WorkerExit::engine_stopped);
    }
    worker::Runtime runtime(&loop, init, link);
    runtime.set_curl_multi(std::move(curl_multi));
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
