#include "worker/runtime.h"

#include <js/Context.h>
#include <js/ContextOptions.h>
#include <js/Initialization.h>
#include <js/Modules.h>
#include <js/Promise.h>
#include <js/Symbol.h>

#include <cstdlib>
#include <string_view>

#include "common/log.h"
#include "worker/api_call_site.h"
#include "worker/api_clone.h"
#include "worker/api_connect.h"
#include "worker/api_console.h"
#include "worker/api_crypto.h"
#include "worker/api_encoding.h"
#include "worker/api_fetch.h"
#include "worker/api_host.h"
#include "worker/api_intl.h"
#include "worker/api_os.h"
#include "worker/api_store.h"
#include "worker/api_tasks.h"
#include "worker/api_tcp.h"
#include "worker/api_timers.h"
#include "worker/api_types.h"
#include "worker/api_udp.h"
#include "worker/api_url.h"
#include "worker/api_zlib.h"
#include "worker/engine_build_id.h"
#include "worker/engine_settings.h"
#include "worker/engine_tasks.h"
#include "worker/job_queue.h"
#include "worker/js_util.h"
#include "worker/module_loader.h"
#include "worker/prebuilt_stencils.h"
#include "worker/supervisor_link.h"
#include "worker/memory_reducer.h"
#include "worker/watchdog.h"

namespace worker {
namespace {

constexpr uint64_t kDefaultHeapLimitBytes = 512ull * 1024 * 1024;
// PORTBROKER_GC_STRESS=1 (a testing knob, see docs/testing.md) shrinks the
// nursery so minor, moving collections happen every few hundred allocations:
// a GC pointer left unrooted in the engine binding then crashes in tests
// instead of once in a million requests in production.
constexpr uint32_t kStressNurseryBytes = 256 * 1024;
constexpr size_t kNativeStackQuotaBytes = 4 * 1024 * 1024;

}  // namespace

Runtime::Runtime(uv_loop_t* loop, ipc::WorkerInit init, SupervisorLink& link)
    : loop_(loop), init_(std::move(init)), link_(link) {}

Runtime::~Runtime() {
  // Everything holding GC roots or libuv handles goes before the context.
  watchdog_.reset();
  memory_reducer_.reset();
  drain_timer_.cancel();
  // Off-thread work (a WebAssembly compile) is abandoned before the context goes.
  if (engine_tasks_) engine_tasks_->shut_down();
  if (cx_ != nullptr) JS::ShutdownAsyncTasks(cx_);
  engine_tasks_.reset();
  store_.reset();
  zlib_.reset();
  tcp_.reset();
  udp_.reset();
  timers_.reset();
  for (auto& hook : hooks_) hook.reset();
  modules_.reset();
  jobs_.reset();
  realm_.reset();
  global_.reset();
  if (cx_ != nullptr) JS_DestroyContext(cx_);
}

bool Runtime::create_context(std::string& error) {
  uint64_t heap = init_.heap_bytes != 0 ? init_.heap_bytes : kDefaultHeapLimitBytes;
  cx_ = JS_NewContext(static_cast<uint32_t>(std::min<uint64_t>(heap, 0xFFFFFFFFu)));
  if (cx_ == nullptr) {
    error = "cannot create a JavaScript context";
    return false;
  }
  JS_SetContextPrivate(cx_, this);
  JS_SetNativeStackQuota(cx_, kNativeStackQuotaBytes);
  // Atomics.wait may block the worker's own thread, as it may Node's main
  // thread; the watchdog's interrupt still ends a wait that runs too long.
  JS_SetFutexCanWait(cx_);
  // No stack captured for every promise job (Firefox's setting outside the
  // debugger): the capture cost more than the rest of a store round trip.
  // Error stacks keep their synchronous frames.
  JS::ContextOptionsRef(cx_).setAsyncStackCaptureDebuggeeOnly(true);
  if (const char* stress = getenv("PORTBROKER_GC_STRESS"); stress != nullptr && std::string_view(stress) == "1") {
    JS_SetGCParameter(cx_, JSGC_MIN_NURSERY_BYTES, kStressNurseryBytes);
    JS_SetGCParameter(cx_, JSGC_MAX_NURSERY_BYTES, kStressNurseryBytes);
  }
  // Decoded from the build's stencil where it fits this engine, instead of
  // parsed (worker/prebuilt_stencils.h).
  register_engine_build_id();
  if (const char* reason = prebuilt_stencils_unused_reason()) {
    // The sources are parsed instead: slower to start, the same code.
    common::log::info("prebuilt-stencils-unused")
        .kv("reason", reason)
        .kv("built_for", kPrebuiltEngineBuildId)
        .kv("running", engine_build_id());
  }
  if (!JS::InitSelfHostedCode(cx_, prebuilt_self_hosted())) {
    error = "cannot initialise the JavaScript engine's self-hosted code";
    return false;
  }
  global_ = std::make_unique<JS::PersistentRootedObject>(
      cx_, JS_NewGlobalObject(cx_, &kWorkerGlobalClass, nullptr, JS::FireOnNewGlobalHook, worker_realm_options()));
  if (!*global_) {
    error = "cannot create the global object";
    return false;
  }
  realm_ = std::make_unique<JSAutoRealm>(cx_, *global_);
  if (!JS::InitRealmStandardClasses(cx_)) {
    error = "cannot initialise the standard classes";
    return false;
  }
  return true;
}

bool Runtime::install_natives(JS::HandleObject native) {
  // The bootstrap list: every native API, each with one registration
  // function, one per line.
  using Install = bool (*)(JSContext*, JS::HandleObject);
  static constexpr Install kInstalls[] = {
      install_encoding_api,
      install_tasks_api,
      install_console_api,
      install_crypto_api,
      install_url_api,
      install_clone_api,
      install_host_api,
      install_intl_api,
      install_types_api,
      install_call_site_api,
      install_os_api,
      install_module_api,
      TimerBinding::install,
      TcpBinding::install,
      UdpBinding::install,
      StoreBinding::install,
      EgressBinding::install,
      ZlibBinding::install,
      FetchBinding::install,
  };
  for (Install install : kInstalls) {
    if (!install(cx_, native)) return false;
  }
  return true;
}

void Runtime::set_curl_multi(std::unique_ptr<CurlMulti> multi) { curl_multi_ = std::move(multi); }

bool Runtime::boot(common::UniqueFd handlers_dir, common::UniqueFd statm, std::string& error) {
  if (!create_context(error)) return false;
  memory_reducer_ = std::make_unique<MemoryReducer>(cx_, loop_);
  if (init_.cpu_limit_ms != 0 || init_.memory_bytes != 0) {
    watchdog_ = std::make_unique<Watchdog>(cx_, Watchdog::Limits{init_.cpu_limit_ms, init_.memory_bytes},
                                           std::move(statm));
  }
  jobs_ = std::make_unique<JobQueue>(cx_, [this](JS::HandleValue e, JS::HandleValue context, bool is_rejection) {
    report_uncaught(e, context, is_rejection);
  });
  engine_tasks_ = std::make_unique<EngineTasks>(*this);
  if (!engine_tasks_->install()) {
    error = "cannot watch the engine's off-thread work";
    return false;
  }
  modules_ = std::make_unique<ModuleLoader>(cx_);
  modules_->set_handlers_dir(std::move(handlers_dir), init_.handlers_dir);
  timers_ = std::make_unique<TimerBinding>(*this);
  tcp_ = std::make_unique<TcpBinding>(*this);
  udp_ = std::make_unique<UdpBinding>(*this);
  store_ = std::make_unique<StoreBinding>(*this);
  egress_ = std::make_unique<EgressBinding>(*this);
  zlib_ = std::make_unique<ZlibBinding>(*this);
  fetch_ = std::make_unique<FetchBinding>(*this, std::move(curl_multi_));
  for (auto& hook : hooks_) hook = std::make_unique<JS::PersistentRootedValue>(cx_);

  JS::RootedObject native(cx_, JS_NewPlainObject(cx_));
  if (!native || !install_natives(native)) {
    error = "cannot install the native API";
    return false;
  }
  // Internal modules read the natives from this slot while they load; the
  // bootstrap deletes it before any handler code can look.
  JS::RootedString key(cx_, JS_NewStringCopyZ(cx_, "portbroker.native"));
  JS::RootedSymbol symbol(cx_, key ? JS::GetSymbolFor(cx_, key) : nullptr);
  if (!symbol) {
    error = "cannot create the native slot";
    return false;
  }
  JS::RootedId id(cx_, JS::PropertyKey::Symbol(symbol));
  if (!JS_DefinePropertyById(cx_, *global_, id, native, 0)) {
    error = "cannot define the native slot";
    return false;
  }
  JS::RootedValue evaluation(cx_);
  JS::RootedObject bootstrap(cx_, modules_->load_internal("bootstrap.js", &evaluation));
  if (!bootstrap) {
    JS::RootedValue exception(cx_);
    JS_GetPendingException(cx_, &exception);
    JS_ClearPendingException(cx_);
    error = "runtime bootstrap failed: " + exception_location(cx_, exception) + ": " + exception_summary(cx_, exception);
    return false;
  }
  jobs_->drain();
  if (evaluation.isObject()) {
    JS::RootedObject promise(cx_, &evaluation.toObject());
    if (JS::GetPromiseState(promise) == JS::PromiseState::Rejected) {
      JS::RootedValue reason(cx_, JS::GetPromiseResult(promise));
      error = "runtime bootstrap failed: " + exception_location(cx_, reason) + ": " + exception_summary(cx_, reason);
      return false;
    }
  }
  if (!hooks_registered_) {
    error = "runtime bootstrap did not register its hooks";
    return false;
  }
  return true;
}

void Runtime::set_hook(Hook hook, JS::HandleValue function) {
  hooks_[static_cast<size_t>(hook)]->set(function);
  hooks_registered_ = true;
}

bool Runtime::call_hook(Hook hook, const JS::HandleValueArray& args, JS::MutableHandleValue result) {
  JS::RootedValue function(cx_, hooks_[static_cast<size_t>(hook)]->get());
  if (JS::Call(cx_, JS::UndefinedHandleValue, function, args, result)) return true;
  report_pending_exception();
  return false;
}

bool Runtime::call_hook(Hook hook, const JS::HandleValueArray& args) {
  JS::RootedValue ignored(cx_);
  return call_hook(hook, args, &ignored);
}

void Runtime::callback_entered() {
  if (watchdog_) watchdog_->enter();
}

void Runtime::callback_left() {
  if (watchdog_) watchdog_->leave();
  if (memory_reducer_) memory_reducer_->note_activity();
}

void Runtime::report_pending_exception() {
  JS::RootedValue exception(cx_);
  if (!JS_GetPendingException(cx_, &exception)) {
    engine_stopped();
    return;
  }
  JS_ClearPendingException(cx_);
  report_uncaught(exception, jobs_->current_context(), false);
}

void Runtime::engine_stopped() {
  // False without an exception: the watchdog stopped runaway or hoarding
  // code, or the engine ran out of memory. Nothing here can be trusted to
  // continue.
  std::string reason = watchdog_ ? watchdog_->reason()
                                 : "the JavaScript engine stopped (out of memory, or an uncatchable error)";
  common::log::error("worker-terminated").kv("reason", reason);
  link_.send(ipc::encode(ipc::WorkerFailed{reason, loaded_modules()}));
  request_exit(static_cast<int>(watchdog_ ? watchdog_->exit_status() : ipc::WorkerExit::engine_stopped));
}

void Runtime::report_uncaught(JS::HandleValue error, JS::HandleValue context, bool is_rejection) {
  if (!reporting_uncaught_ && hooks_registered_) {
    reporting_uncaught_ = true;
    JS::RootedValueArray<3> args(cx_);
    args[0].set(error);
    args[1].set(context);
    args[2].setBoolean(is_rejection);
    JS::RootedValue function(cx_, hooks_[static_cast<size_t>(Hook::uncaught)]->get());
    JS::RootedValue ignored(cx_);
    bool ok = JS::Call(cx_, JS::UndefinedHandleValue, function, args, &ignored);
    reporting_uncaught_ = false;
    if (ok) return;
    JS_ClearPendingException(cx_);
  }
  // The JavaScript reporter itself failed: log what we can natively.
  common::log::error(is_rejection ? "unhandled-rejection" : "uncaught-exception")
      .kv("error", exception_summary(cx_, error))
      .kv("at", exception_location(cx_, error));
}

void Runtime::after_callback() {
  jobs_->drain();
  store_->flush();
  udp_->flush();
  if (stopping_ && handler_stopped_ && tcp_->open_connections() == 0) request_exit(0);
}

void Runtime::start_handler(int store_command_fd, int store_subscription_fd) {
  CallbackScope scope(*this);
  std::string error;
  if (!store_->attach(common::UniqueFd(store_command_fd), common::UniqueFd(store_subscription_fd), error)) {
    handler_failed(error);
    return;
  }
  // Fail closed: a handler configured for TLS never serves plaintext.
  if (!init_.tls_json.empty() && !tcp_->set_tls(init_.tls_json, error)) {
    handler_failed("tls: " + error);
    return;
  }
  JS::RootedValue evaluation(cx_);
  JS::RootedObject module(cx_, modules_->load_user(init_.module_file, &evaluation));
  if (!module) {
    JS::RootedValue exception(cx_);
    if (!JS_GetPendingException(cx_, &exception)) {
      engine_stopped();
      return;
    }
    JS_ClearPendingException(cx_);
    std::string location = exception_location(cx_, exception);
    handler_failed((location.empty() ? "" : location + ": ") + exception_summary(cx_, exception));
    return;
  }
  JS::RootedObject namespace_object(cx_, JS::GetModuleNamespace(cx_, module));
  JS::RootedObject info(cx_, JS_NewPlainObject(cx_));
  JS::RootedString name(cx_, new_string_from_utf8(cx_, init_.handler_name));
  JS::RootedString file(cx_, new_string_from_utf8(cx_, init_.module_file));
  JS::RootedString protocol(cx_, new_string_from_utf8(cx_, init_.transport));
  if (!namespace_object || !info || !name || !file || !protocol ||
      !JS_DefineProperty(cx_, info, "name", name, JSPROP_ENUMERATE) ||
      !JS_DefineProperty(cx_, info, "file", file, JSPROP_ENUMERATE) ||
      !JS_DefineProperty(cx_, info, "protocol", protocol, JSPROP_ENUMERATE) ||
      !JS_DefineProperty(cx_, info, "port", init_.port, JSPROP_ENUMERATE) ||
      !JS_DefineProperty(cx_, info, "openTimeoutMs", init_.open_timeout_ms, JSPROP_ENUMERATE)) {
    handler_failed("cannot prepare the handler's context (out of memory?)");
    return;
  }
  JS::RootedValueArray<3> args(cx_);
  args[0].setObject(*namespace_object);
  args[1].set(evaluation);
  args[2].setObject(*info);
  if (!call_hook(Hook::start, args)) handler_failed("the runtime could not start the handler");
}

void Runtime::handler_ready(const std::string& access_json) {
  common::log::info("handler-loaded").kv("file", init_.module_file);
  link_.send(ipc::encode(ipc::WorkerReady{access_json, loaded_modules()}));
  // Files a later import() reads are watched too: the supervisor hears of them.
  modules_->set_new_files_listener([this](const std::vector<ipc::ModuleFile>& files) {
    link_.send(ipc::encode(ipc::ModulesLoaded{files}));
  });
}

std::string Runtime::check_handler(common::UniqueFd handlers_dir) {
  std::string error;
  if (!create_context(error)) return error;
  modules_ = std::make_unique<ModuleLoader>(cx_);
  modules_->set_handlers_dir(std::move(handlers_dir), init_.handlers_dir);
  JS::RootedObject module(cx_, modules_->link_user(init_.module_file));
  if (!module) {
    JS::RootedValue exception(cx_);
    if (!JS_GetPendingException(cx_, &exception)) return "the JavaScript engine stopped (out of memory?)";
    JS_ClearPendingException(cx_);
    std::string location = exception_location(cx_, exception);
    return (location.empty() ? "" : location + ": ") + exception_summary(cx_, exception);
  }
  // The namespace answers which names are exported without reading them, so
  // nothing of the module runs.
  JS::RootedObject namespace_object(cx_, JS::GetModuleNamespace(cx_, module));
  const char* required = init_.transport == "udp" ? "message" : "handle";
  bool found = false;
  if (!namespace_object || !JS_HasProperty(cx_, namespace_object, required, &found)) {
    JS_ClearPendingException(cx_);
    return "cannot read the module's exports";
  }
  if (!found) {
    return init_.module_file + ": a " + init_.transport + " handler must export a function \"" + required + "\"";
  }
  return {};
}

std::vector<ipc::ModuleFile> Runtime::loaded_modules() const {
  return modules_ ? modules_->loaded_files() : std::vector<ipc::ModuleFile>{};
}

void Runtime::handler_failed(const std::string& reason) {
  // The supervisor logs it (with the handler's name) and shows it in status.
  common::log::debug("handler-failed").kv("file", init_.module_file).kv("reason", reason);
  link_.send(ipc::encode(ipc::WorkerFailed{reason, loaded_modules()}));
  request_exit(1);
}

void Runtime::begin_stop(const ipc::WorkerStop& stop) {
  if (stopping_) return;
  stopping_ = true;
  drain_timeout_ms_ = stop.drain_timeout_ms;
  CallbackScope scope(*this);
  JS::RootedValueArray<1> args(cx_);
  args[0].setNumber(stop.close_timeout_ms);
  if (!call_hook(Hook::stop, args)) handler_stopped();
}

void Runtime::handler_stopped() {
  if (handler_stopped_) return;
  handler_stopped_ = true;
  if (tcp_->open_connections() == 0) return;  // after_callback exits
  // Open connections may finish on their own until the drain deadline.
  drain_timer_.start(loop_, drain_timeout_ms_, [this] {
    common::log::info("drain-deadline").kv("open_connections", tcp_->open_connections());
    CallbackScope scope(*this);
    tcp_->close_all();
  });
}

void Runtime::request_exit(int code) {
  if (exiting_) return;
  exiting_ = true;
  exit_code_ = code;
  uv_stop(loop_);
}

}  // namespace worker
