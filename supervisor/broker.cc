#include "supervisor/broker.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <filesystem>

#include "common/log.h"
#include "common/process.h"
#include "supervisor/metrics.h"
#include "supervisor/tcp_traffic.h"
#include "supervisor/privileges.h"

namespace supervisor {
namespace {

// True if something answers on an existing control socket: another broker
// owns this run directory.
bool control_socket_alive(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd && connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace

Broker::Broker(uv_loop_t* loop, Options options)
    : loop_(loop),
      options_(std::move(options)),
      worker_executable_(common::find_helper_executable("portbroker-worker")),
      local_ca_(options_.config.state_dir + "/ca", options_.config.tls.domains),
      tracker_(loop) {}

Broker::~Broker() {
  handlers_.clear();
  control_.reset();
  store_.reset();
}

bool Broker::prepare_run_dir(std::string& error) {
  const std::string& dir = options_.config.run_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create run directory " + dir + ": " + ec.message();
    return false;
  }
  std::string control_path = dir + "/control.sock";
  if (control_socket_alive(control_path)) {
    error = "another portbrokerd is running with run directory " + dir;
    return false;
  }
  return true;
}

int Broker::run() {
  started_ms_ = uv_now(loop_);
  std::string error;
  struct stat info {};
  if (stat(options_.config.handlers_dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    common::log::error("startup-failed").kv("reason", "handlers folder " + options_.config.handlers_dir +
                                                          " is not a readable directory");
    return 1;
  }
  rlimit descriptors{};
  if (getrlimit(RLIMIT_NOFILE, &descriptors) == 0 && descriptors.rlim_cur != RLIM_INFINITY) {
    uint64_t limit = descriptors.rlim_cur;
    uint64_t reserve = std::max<uint64_t>(256, limit / 10);
    connection_ceiling_ = limit > reserve ? limit - reserve : 1;
  }
  if (!prepare_run_dir(error) || !tracker_.start(error) || !resolve_worker_identity(options_.config.worker, worker_, error)) {
    common::log::error("startup-failed").kv("reason", error);
    return 1;
  }
  for (int signum : {SIGTERM, SIGINT, SIGHUP}) {
    common::UvHandle<uv_signal_t> handle;
    handle.init(uv_signal_init, loop_);
    handle->data = this;
    uv_signal_start(
        handle.get(),
        [](uv_signal_t* h, int sig) {
          if (h->data) static_cast<Broker*>(h->data)->on_signal(sig);
        },
        signum);
    signals_.push_back(std::move(handle));
  }
  // Before the store starts: it inherits the slice.
  if (options_.config.latency_slice_us > 0) {
    latency_slice_ = request_latency_slice(options_.config.latency_slice_us);
    if (latency_slice_.applied) {
      common::log::info("latency-slice").kv("slice_us", options_.config.latency_slice_us);
    } else {
      common::log::info("latency-slice-unavailable").kv("reason", latency_slice_.reason);
    }
  } else {
    latency_slice_.reason = "not requested (scheduling.latency_slice_us is 0)";
  }
  const auto& worker = options_.config.worker;
  std::vector<std::string> store_sandbox = {"--uid", std::to_string(worker_.uid), "--gid", std::to_string(worker_.gid),
                                            "--sandbox", worker.sandbox ? "on" : "off"};
  store_ = std::make_unique<StoreService>(loop_, options_.config.run_dir, options_.config.log_level, store_sandbox,
                                          worker.sandbox, [this] {
                                            for (auto& handler : handlers_) handler->reconnect_store();
                                          });
  if (!store_->start(error)) {
    common::log::error("startup-failed").kv("reason", error);
    return 1;
  }
  control_ = std::make_unique<ControlServer>(loop_, options_.config.run_dir + "/control.sock",
                                             [this](const nlohmann::json& request) { return on_control(request); });
  if (!control_->start(error)) {
    common::log::error("startup-failed").kv("reason", error);
    return 1;
  }
  if (const auto& listen = options_.config.metrics_listen) {
    metrics_listener_ = std::make_unique<MetricsListener>(loop_, [this] { return metrics(); });
    if (!metrics_listener_->start(listen->host, listen->port, error)) {
      common::log::error("startup-failed").kv("reason", error);
      return 1;
    }
  }
  common::log::info("broker-started")
      .kv("pid", static_cast<int64_t>(getpid()))
      .kv("handlers_dir", options_.config.handlers_dir)
      .kv("run_dir", options_.config.run_dir)
      .kv("config", options_.config_path.empty() ? "-" : options_.config_path);
  std::optional<OperatorChain> accept_in;
  if (const auto& chain = options_.config.firewall_accept_in) accept_in = OperatorChain{chain->family, chain->table, chain->chain};
  firewall_ = std::make_unique<Firewall>(options_.config.firewall_enabled, options_.firewall_reason, accept_in);
  if (!firewall_->enabled()) common::log::warn("firewall-disabled").kv("reason", firewall_->reason());
  if (!rescan(error)) {
    common::log::error("startup-failed").kv("reason", error);
    return 1;
  }
  watch_ = std::make_unique<FolderWatch>(loop_, options_.config.handlers_dir, kSettleMs, kMaxSettleMs, [this] {
    rescan_logged();
  });
  if (!watch_->start(error)) {
    // Reloads still work on SIGHUP and `portbrokerctl reload`.
    common::log::error("watch-failed").kv("reason", error);
  }
  watch_subfolders();
  handler_settled();  // covers a folder with nothing to start
  // Start-up needed more than running does: keep only what running needs.
  capabilities_ = reduce_supervisor_privileges();
  uv_run(loop_, UV_RUN_DEFAULT);
  return exit_code_;
}

bool Broker::rescan(std::string& error, bool forced) {
  if (shutting_down_) return true;
  ScanResult scan;
  if (!scan_handlers_dir(options_.config.handlers_dir, options_.config.tls, scan, error)) {
    common::log::error("rescan-failed").kv("reason", error);
    return false;
  }
  for (const auto& ignored : scan.ignored) {
    bool known = std::any_of(ignored_.begin(), ignored_.end(), [&](const IgnoredFile& seen) {
      return seen.file == ignored.file && seen.reason == ignored.reason;
    });
    if (!known) common::log::warn("file-ignored").kv("file", ignored.file).kv("reason", ignored.reason);
  }
  ignored_ = scan.ignored;
  // Gone from the folder: drain, then give the port up. All are marked
  // first, so none of them takes over a port another one gives up.
  auto gone = confirm_absences(scan);
  for (Handler* handler : gone) removing_.insert(handler);
  for (Handler* handler : gone) remove_handler(*handler);
  // Entry points arrive in claim order (older first, then by name).
  std::vector<Handler*> to_start;
  for (auto& file : scan.entry_points) {
    Handler* existing = find_handler(file.file);
    if (existing != nullptr) {
      // One still draining out comes back once it is gone (the rescan that
      // follows its removal).
      if (removing_.count(existing)) continue;
      bool retry = forced && existing->state() == HandlerState::failed;
      if (retry || existing->changed(file)) existing->update(std::move(file));
      continue;
    }
    policy::ClaimKey key{file.id.transport, file.id.port};
    auto outcome = claims_.claim(key, policy::ClaimPriority{file.mtime_ns, file.file});
    auto handler = std::make_unique<Handler>(*this, std::move(file));
    if (outcome.granted) {
      to_start.push_back(handler.get());
    } else {
      handler->refuse(outcome.holder);
    }
    common::log::info("handler-found").kv("handler", handler->file().id.name).kv("file", handler->file().file);
    handlers_.push_back(std::move(handler));
  }
  // The kernel screens before any new port opens.
  for (Handler* handler : to_start) handler->start();
  apply_firewall();
  watch_subfolders();
  return true;
}

std::vector<Handler*> Broker::confirm_absences(ScanResult& scan) {
  uint64_t now = uv_now(loop_);
  std::map<std::string, uint64_t> missing;
  std::vector<Handler*> gone;
  // True once `file` has been missing long enough; until then it waits.
  auto confirmed = [&](const std::string& file) {
    auto seen = missing_since_.find(file);
    uint64_t since = seen == missing_since_.end() ? now : seen->second;
    if (now - since >= kConfirmAbsenceMs) return true;
    missing[file] = since;
    return false;
  };
  for (auto& handler : handlers_) {
    const std::string& name = handler->file().file;
    if (removing_.count(handler.get())) continue;
    auto found = std::find_if(scan.entry_points.begin(), scan.entry_points.end(),
                              [&](const HandlerFile& file) { return file.file == name; });
    if (found == scan.entry_points.end()) {
      if (confirmed(name)) gone.push_back(handler.get());
      continue;
    }
    // A manifest that went away keeps its policy until the absence is confirmed.
    const HandlerFile& in_force = handler->file();
    if (found->manifest_signature.empty() && !in_force.manifest_signature.empty() &&
        !confirmed(in_force.manifest_file)) {
      found->manifest = in_force.manifest;
      found->manifest_error = in_force.manifest_error;
      found->manifest_signature = in_force.manifest_signature;
    }
  }
  missing_since_ = std::move(missing);
  if (!missing_since_.empty()) {
    uint64_t first = std::min_element(missing_since_.begin(), missing_since_.end(), [](const auto& a, const auto& b) {
                       return a.second < b.second;
                     })->second;
    rescan_timer_.start(loop_, first + kConfirmAbsenceMs - now, [this] {
      rescan_logged();
    });
  }
  return gone;
}

void Broker::rescan_logged() {
  std::string error;  // rescan() logs what went wrong
  rescan(error);
}

void Broker::request_rescan() {
  if (rescan_timer_.pending() || shutting_down_) return;
  rescan_timer_.start(loop_, kSettleMs, [this] {
    rescan_logged();
  });
}

Handler* Broker::find_handler(const std::string& file) const {
  for (const auto& handler : handlers_) {
    if (handler->file().file == file) return handler.get();
  }
  return nullptr;
}

void Broker::hand_over(const Handler& handler) {
  policy::ClaimKey key{handler.file().id.transport, handler.file().id.port};
  auto next = claims_.release(key, handler.file().file);
  if (!next) return;
  Handler* successor = find_handler(*next);
  // One being removed too gives the port on when its own stop begins.
  if (successor == nullptr || removing_.count(successor) || shutting_down_) return;
  common::log::info("claim-taken-over").kv("handler", successor->file().id.name).kv("file", *next);
  successor->start();
  for (const auto& waiting : claims_.waiting(key)) {
    if (Handler* other = find_handler(waiting)) other->refuse(*next);
  }
  apply_firewall();
}

void Broker::remove_handler(Handler& handler) {
  removing_.insert(&handler);
  common::log::info("handler-removed").kv("handler", handler.file().id.name).kv("file", handler.file().file);
  auto port_released = [this, &handler] { hand_over(handler); };
  handler.stop([this, &handler] {
    removed_.push_back(&handler);
    // Destroyed on the next turn, outside its own callbacks; then a rescan
    // picks up a file of the same name that came back meanwhile.
    removal_timer_.start(loop_, 0, [this] {
      for (const Handler* gone : removed_) {
        removing_.erase(gone);
        std::erase_if(handlers_, [&](const auto& h) { return h.get() == gone; });
      }
      removed_.clear();
      apply_firewall();
      rescan_logged();
    });
  }, port_released);
}

void Broker::watch_subfolders() {
  if (!watch_) return;
  std::vector<std::string> folders;
  for (const auto& handler : handlers_) {
    for (const auto& dirs : {handler->module_dirs(), handler->tls_dirs()}) folders.insert(folders.end(), dirs.begin(), dirs.end());
  }
  watch_->watch_subfolders(folders);
}

void Broker::apply_firewall() {
  std::vector<FirewallPort> ports;
  for (const auto& handler : handlers_) {
    if (auto port = handler->firewall_port()) ports.push_back(*port);
  }
  firewall_->apply(ports);
}

void Broker::handler_settled() {
  if (ready_logged_ || shutting_down_) return;
  size_t active = 0;
  size_t failed = 0;
  size_t refused = 0;
  for (const auto& handler : handlers_) {
    if (!handler->settled()) return;
    switch (handler->state()) {
      case HandlerState::active: ++active; break;
      case HandlerState::refused: ++refused; break;
      default: ++failed; break;
    }
  }
  ready_logged_ = true;
  common::log::info("ready")
      .kv("handlers", handlers_.size())
      .kv("active", active)
      .kv("failed", failed)
      .kv("refused", refused)
      .kv("ignored", ignored_.size());
  notifier_.ready(summary());
}

std::string Broker::summary() const {
  size_t active = std::count_if(handlers_.begin(), handlers_.end(),
                                [](const auto& handler) { return handler->state() == HandlerState::active; });
  return std::to_string(handlers_.size()) + " handlers, " + std::to_string(active) + " active";
}

bool Broker::reload(const char* by, std::string& error) {
  if (shutting_down_) {
    error = "the broker is shutting down";
    return false;
  }
  common::log::info("reload-requested").kv("by", by);
  // Before the broker is ready the service manager waits for READY=1 anyway.
  if (ready_logged_) notifier_.reloading();
  bool ok = rescan(error, true);
  if (ready_logged_) notifier_.ready(summary());
  return ok;
}

nlohmann::json Broker::status() const {
  nlohmann::json handlers = nlohmann::json::array();
  for (const auto& handler : handlers_) handlers.push_back(handler->status());
  nlohmann::json ignored = nlohmann::json::array();
  for (const auto& file : ignored_) ignored.push_back({{"file", file.file}, {"reason", file.reason}});
  return {
      {"broker",
       {
           {"pid", static_cast<int64_t>(getpid())},
           {"version", "0.1.0"},
           {"uptime_s", (uv_now(loop_) - started_ms_) / 1000},
           {"handlers_dir", options_.config.handlers_dir},
           {"run_dir", options_.config.run_dir},
           {"config", options_.config_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(options_.config_path)},
           {"state", shutting_down_ ? "stopping" : ready_logged_ ? "ready" : "starting"},
           {"firewall",
            {{"enabled", firewall_ && firewall_->enabled()},
             {"reason", firewall_ && firewall_->enabled() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(firewall_ ? firewall_->reason() : "starting")}}},
           {"worker_user",
            {{"name", worker_.user},
             {"uid", worker_.uid},
             {"gid", worker_.gid},
             {"sandbox", options_.config.worker.sandbox}}},
           // What the supervisor itself kept after start-up.
           {"capabilities", capabilities_},
           {"latency_slice",
            {{"slice_us", latency_slice_.applied ? nlohmann::json(options_.config.latency_slice_us) : nlohmann::json(nullptr)},
             {"reason", latency_slice_.applied ? nlohmann::json(nullptr) : nlohmann::json(latency_slice_.reason)}}},
           {"store",
            {{"pid", store_ && store_->running() ? nlohmann::json(store_->pid()) : nlohmann::json(nullptr)},
             {"namespaces", store_ ? store_->namespaces() : std::vector<std::string>{}},
             {"socket", store_ ? store_->socket_path() : ""},
             {"restarts", store_ ? store_->restarts() : 0}}},
           {"connections", tracker_.size()},
       }},
      {"handlers", handlers},
      {"ignored", ignored},
  };
}

nlohmann::json Broker::connections(const std::string& handler) const {
  uint64_t now = uv_now(loop_);
  nlohmann::json list = nlohmann::json::array();
  tracker_.for_each([&](uint64_t id, const TrackedConnection& connection) {
    if (connection.owner == nullptr) return;
    if (!handler.empty() && connection.owner->handler_name() != handler) return;
    auto traffic = tcp_traffic(connection.fd.get());
    nlohmann::json entry = {
        {"id", id},
        {"handler", connection.owner->handler_name()},
        {"worker_pid", connection.owner->owner_pid()},
        {"peer", connection.remote.to_string()},
        {"age_ms", now - connection.opened_ms},
        {"idle_ms", traffic.known ? nlohmann::json(traffic.idle_ms) : nlohmann::json(nullptr)},
        {"bytes_received", traffic.known ? nlohmann::json(traffic.bytes_received) : nlohmann::json(nullptr)},
        {"bytes_sent", traffic.known ? nlohmann::json(traffic.bytes_sent) : nlohmann::json(nullptr)},
    };
    list.push_back(std::move(entry));
  });
  // Oldest first, for a stable listing.
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a["id"] < b["id"]; });
  return {{"connections", list}};
}

std::string Broker::metrics() {
  tracker_.sweep();  // counts as of now
  return render_metrics(status(), store_ ? store_->key_count() : std::nullopt);
}

nlohmann::json Broker::on_control(const nlohmann::json& request) {
  std::string command = request["command"].get<std::string>();
  tracker_.sweep();  // what the operator sees is as of now
  if (command == "status") return status();
  if (command == "connections") {
    const auto& handler = request.value("handler", nlohmann::json(""));
    if (!handler.is_string()) return {{"error", "'handler' must be a string"}};
    if (!handler.get<std::string>().empty() &&
        std::none_of(handlers_.begin(), handlers_.end(), [&](const auto& h) { return h->file().id.name == handler; })) {
      return {{"error", "no handler named '" + handler.get<std::string>() + "'"}};
    }
    return connections(handler.get<std::string>());
  }
  if (command == "metrics") return {{"text", metrics()}};
  if (command == "ca") {
    std::string error;
    if (!local_ca_.ensure(error)) return {{"error", error}};
    return {{"certificate", local_ca_.certificate_pem()}, {"file", local_ca_.certificate_file()}};
  }
  if (command == "reload") {
    std::string error;
    if (!reload("portbrokerctl", error)) return {{"error", error}};
    return {{"reloaded", true}, {"handlers", handlers_.size()}};
  }
  return {{"error", "unknown command '" + command + "'"}};
}

void Broker::on_signal(int signum) {
  if (signum == SIGHUP) {
    std::string ignored;
    reload("SIGHUP", ignored);
    return;
  }
  if (shutting_down_) {
    // A second SIGTERM/SIGINT: stop waiting for close(ctx) and drains.
    common::log::warn("shutdown-forced");
    exit_code_ = 1;
    finish_timer_.start(loop_, 0, [this] { finish_shutdown(); });
    return;
  }
  common::log::info("shutdown-started").kv("signal", signum == SIGTERM ? "SIGTERM" : "SIGINT");
  request_shutdown();
}

void Broker::request_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  notifier_.stopping();
  handlers_stopping_ = handlers_.size();
  auto finish_soon = [this] { finish_timer_.start(loop_, 0, [this] { finish_shutdown(); }); };
  if (handlers_stopping_ == 0) {
    finish_soon();
    return;
  }
  for (auto& handler : handlers_) {
    handler->stop([this, finish_soon] {
      if (--handlers_stopping_ == 0) finish_soon();
    });
  }
}

void Broker::finish_shutdown() {
  if (finishing_) return;
  finishing_ = true;
  watch_.reset();
  removal_timer_.cancel();
  rescan_timer_.cancel();
  handlers_.clear();
  if (firewall_) firewall_->remove();
  control_.reset();
  metrics_listener_.reset();
  for (auto& handle : signals_) handle.reset();
  auto done = [this] {
    common::log::info("stopped").kv("exit_code", exit_code_);
    uv_stop(loop_);
  };
  if (store_) {
    store_->stop(done);
  } else {
    done();
  }
}

}  // namespace supervisor
