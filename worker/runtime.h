#pragma once
// One worker's JavaScript runtime: the SpiderMonkey context and global, the job
// queue, the module loader and every native binding, driven by a libuv loop.
// Native functions find it through the context's private pointer.

#include <jsapi.h>
#include <uv.h>

#include <array>
#include <memory>
#include <string>

#include "common/one_shot_timer.h"
#include "common/unique_fd.h"
#include "ipc/messages.h"

namespace worker {

class EngineTasks;
class JobQueue;
class ModuleLoader;
class TimerBinding;
class TcpBinding;
class UdpBinding;
class StoreBinding;
class EgressBinding;
class ZlibBinding;
class FetchBinding;
class CurlMulti;
class SupervisorLink;
class Watchdog;
class MemoryReducer;

// JavaScript functions the internal bootstrap registers for the engine binding
// to call (native.registerHooks).
enum class Hook : int {
  start,              // (namespace, evaluationPromise, info) → loads the handler, runs open(ctx)
  connection,         // (id, brokerId, remoteAddress, remotePort, remoteFamily, localAddress, localPort, tlsJson?) → socket
  datagram,           // (arrayBuffer, address, family, port)
  stop,               // (closeTimeoutMs) → aborts ctx.signal, awaits close(ctx)
  tcp_read,           // (socket, arrayBuffer | null at EOF | errno)
  tcp_write_done,     // (socket, bytes, status)
  tcp_shutdown_done,  // (socket, status)
  tcp_close,          // (socket)
  store_message,      // (kind, channel, payload): a delivery or a (un)subscribe confirmation
  store_failure,      // (reason): the store connection is gone
  store_restored,     // (): new store connections replace the lost ones
  uncaught,           // (error, context, isRejection)
  egress_connected,   // (requestId, connectionId | 0, code, address, port, family) → socket (worker/api_connect.h)
  egress_lookup_done, // (requestId, code, addresses)
  tls_client_settled, // (socket, infoJson | "", failure, detail): tls.connect's handshake ended (worker/tls_client.h)
  fetch_event,        // (id, kind, ...): a fetch's progress (worker/api_fetch.h)
  count,
};


class Runtime {
 public:
  Runtime(uv_loop_t* loop, ipc::WorkerInit init, SupervisorLink& link);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  static Runtime& from(JSContext* cx) { return *static_cast<Runtime*>(JS_GetContextPrivate(cx)); }

  // Creates the context and global and runs the internal bootstrap.
  // `handlers_dir` and `statm` come from the confinement (worker/confinement.h).
  bool boot(common::UniqueFd handlers_dir, common::UniqueFd statm, std::string& error);
  // Loads the handler module and hands it to the host's start hook, which
  // reports ready or failed to the supervisor.
  void start_handler(int store_command_fd, int store_subscription_fd);
  // `portbrokerctl check`: compiles and links the handler module and its
  // imports, and looks for the export its protocol requires, without running
  // any of its code. Empty when it would load; otherwise why not, with file
  // and line.
  std::string check_handler(common::UniqueFd handlers_dir);
  std::vector<ipc::ModuleFile> loaded_modules() const;

  JSContext* cx() const { return cx_; }
  uv_loop_t* loop() const { return loop_; }
  const ipc::WorkerInit& init() const { return init_; }
  JobQueue& jobs() { return *jobs_; }
  TimerBinding& timers() { return *timers_; }
  TcpBinding& tcp() { return *tcp_; }
  UdpBinding& udp() { return *udp_; }
  StoreBinding& store() { return *store_; }
  EgressBinding& egress() { return *egress_; }
  ZlibBinding& zlib() { return *zlib_; }
  FetchBinding& fetch() { return *fetch_; }
  // fetch()'s libcurl handle, made before confinement (worker/http_transfers.h);
  // given before boot().
  void set_curl_multi(std::unique_ptr<CurlMulti> multi);
  ModuleLoader& modules() { return *modules_; }
  SupervisorLink& link() { return link_; }

  void set_hook(Hook hook, JS::HandleValue function);
  bool has_hooks() const { return hooks_registered_; }
  // Calls a hook. An exception is reported as uncaught (in the current
  // context); returns false then.
  bool call_hook(Hook hook, const JS::HandleValueArray& args, JS::MutableHandleValue result);
  bool call_hook(Hook hook, const JS::HandleValueArray& args);

  // Takes the pending exception and reports it; for an uncatchable error
  // (termination), logs it and ends the worker.
  void report_pending_exception();
  // The engine refused to continue (watchdog or out of memory): report why and exit.
  void engine_stopped();
  void report_uncaught(JS::HandleValue error, JS::HandleValue context, bool is_rejection);

  // Work that waits for the outermost callback to end: jobs drained, UDP
  // replies flushed, a finished drain turned into exit.
  void after_callback();
  int callback_depth = 0;
  // The outermost callback entered or left (the CPU watchdog's clock).
  void callback_entered();
  void callback_left();

  // Lifecycle, reported by the host module and the supervisor link.
  void handler_ready(const std::string& access_json);
  void handler_failed(const std::string& reason);

  void begin_stop(const ipc::WorkerStop& stop);
  void handler_stopped();  // close(ctx) settled (or timed out)
  void request_exit(int code);
  int exit_code() const { return exit_code_; }

 private:
  bool create_context(std::string& error);
  bool install_natives(JS::HandleObject native);

  uv_loop_t* loop_;
  ipc::WorkerInit init_;
  SupervisorLink& link_;
  JSContext* cx_ = nullptr;
  std::unique_ptr<JS::PersistentRootedObject> global_;
  std::unique_ptr<JSAutoRealm> realm_;
  std::unique_ptr<JobQueue> jobs_;
  std::unique_ptr<EngineTasks> engine_tasks_;
  std::unique_ptr<ModuleLoader> modules_;
  std::unique_ptr<TimerBinding> timers_;
  std::unique_ptr<TcpBinding> tcp_;
  std::unique_ptr<UdpBinding> udp_;
  std::unique_ptr<StoreBinding> store_;
  std::unique_ptr<EgressBinding> egress_;
  std::unique_ptr<ZlibBinding> zlib_;
  std::unique_ptr<CurlMulti> curl_multi_;
  std::unique_ptr<FetchBinding> fetch_;
  std::unique_ptr<Watchdog> watchdog_;
  std::unique_ptr<MemoryReducer> memory_reducer_;
  std::array<std::unique_ptr<JS::PersistentRootedValue>, static_cast<size_t>(Hook::count)> hooks_;
  bool hooks_registered_ = false;
  bool reporting_uncaught_ = false;
  bool stopping_ = false;
  bool handler_stopped_ = false;
  bool exiting_ = false;
  int exit_code_ = 0;
  uint32_t drain_timeout_ms_ = 0;
  common::OneShotTimer drain_timer_;
};

// Entered by every libuv callback that may run JavaScript. When the outermost
// scope closes, nextTick callbacks and promise jobs run, as after every
// callback in Node.
class CallbackScope {
 public:
  explicit CallbackScope(Runtime& runtime) : runtime_(runtime) {
    if (runtime_.callback_depth++ == 0) runtime_.callback_entered();
  }
  ~CallbackScope() {
    // Still inside the callback while its jobs run: what they send is
    // batched with the rest and flushed once at the end.
    if (runtime_.callback_depth == 1) {
      runtime_.after_callback();
      runtime_.callback_left();
    }
    --runtime_.callback_depth;
  }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  Runtime& runtime_;
};

}  // namespace worker
