#include "supervisor/broker.h"

#include <pwd.h>
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
#include <map>
#include <set>

#include "common/log.h"
#include "common/process.h"
#include "policy/json_fields.h"
#include "supervisor/metrics.h"
#include "supervisor/tcp_traffic.h"
#include "supervisor/privileges.h"
#include "supervisor/tenant/tenant_identity.h"

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

// The names the local CA may sign for: the operator's domains and every
// tenant's, which its name constraints then carry.
std::vector<std::string> all_domains(const policy::BrokerConfig& config) {
  std::vector<std::string> domains = config.tls.domains;
  for (const auto& tenant : config.tenants) domains.insert(domains.end(), tenant.tls.domains.begin(), tenant.tls.domains.end());
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  return domains;
}

}  // namespace

Broker::Broker(uv_loop_t* loop, Options options)
    : loop_(loop),
      options_(std::move(options)),
      worker_executable_(common::find_helper_executable("portbroker-worker")),
      local_ca_(options_.config.state_dir + "/ca", all_domains(options_.config)),
      tracker_(loop) {}

Broker::~Broker() {
  folders_.clear();
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

bool Broker::make_folders(std::string& error) {
  folders_.push_back(std::make_unique<HandlerFolder>(*this, options_.config.handlers_dir, worker_, options_.config.tls,
                                                     nullptr, sandbox::CgroupPlacement{}, ""));
  // A host without tenants behaves as before: no control groups touched.
  if (options_.config.tenants.empty()) return true;
  cgroups_ = sandbox::CgroupTree::detect_system();
  common::log::info("tenant-cgroups").kv("using", cgroups_.describe());
  tenant::UidRegistry registry(options_.config.state_dir + "/tenant-uids.json");
  if (!registry.load(error)) return false;
  std::set<uid_t> uids_in_use = {worker_.uid};
  std::map<std::string, WorkerIdentity> identities;
  if (!tenant::resolve_tenant_identities(options_.config.tenants, worker_, registry, uids_in_use, identities, error)) {
    return false;
  }
  for (const auto& tenant : options_.config.tenants) {
    if (!make_tenant_folder(tenant, identities[tenant.name], error)) return false;
  }
  if (registry.allocations().size() > 0 && !registry.save(error)) return false;
  return true;
}

bool Broker::make_tenant_folder(const policy::TenantConfig& tenant, const WorkerIdentity& identity,
                                std::string& error) {
  // Its own part of the store, and its own socket to it.
  if (!store_->add_scope(tenant.name, identity.uid, identity.gid, tenant.limits.store_mb << 20, error)) {
    error = "tenant " + tenant.name + ": its store socket: " + error;
    return false;
  }
  // The kernel bounds the tenant's workers together where the host lets us.
  sandbox::CgroupPlacement placement;
  std::string cgroup_note;
  if (!cgroups_.ensure_group(sandbox::tenant_group_name(tenant.name),
                             {tenant.limits.memory_mb << 20, tenant.limits.pids}, placement, cgroup_note)) {
    common::log::warn("tenant-cgroup-unavailable").kv("tenant", tenant.name).kv("reason", cgroup_note);
  }
  folders_.push_back(std::make_unique<HandlerFolder>(*this, tenant.handlers_dir, identity, tenant.tls, &tenant,
                                                     std::move(placement), cgroup_note));
  common::log::info("tenant-added")
      .kv("tenant", tenant.name)
      .kv("handlers_dir", tenant.handlers_dir)
      .kv("uid", identity.uid)
      .kv("ports", tenant.ports_text());
  return true;
}

void Broker::reload_config() {
  policy::BrokerConfig next;
  std::string field;
  std::string error;
  bool ok = load_config_file(options_.config_path, next, field, error);
  if (ok) {
    // Folders and directories are fixed while running (the command line may
    // have set them): the new tenants are checked against those.
    next.handlers_dir = options_.config.handlers_dir;
    next.run_dir = options_.config.run_dir;
    next.state_dir = options_.config.state_dir;
    try {
      policy::finish_config(next);
    } catch (const policy::JsonFieldError& e) {
      ok = false;
      field = e.path();
      error = e.what();
    }
  }
  auto refuse = [&] {
    config_error_ = options_.config_path + ": " + error + " (the configuration in force stays)";
    common::log::error("config-invalid").kv("file", options_.config_path).kv("field", field).kv("reason", error);
  };
  if (!ok) return refuse();
  const auto& before = options_.config.tenants;
  const auto& after = next.tenants;
  auto find = [](const std::vector<policy::TenantConfig>& list, const std::string& name) -> const policy::TenantConfig* {
    for (const auto& tenant : list) {
      if (tenant.name == name) return &tenant;
    }
    return nullptr;
  };
  // What each tenant of the new file needs: nothing (unchanged and running),
  // new limits only, or a (re)start: new, changed in what a running folder
  // cannot take (its folder, user, ports, key directories), or without a
  // running folder because its last start failed (a reload retries it).
  std::vector<const policy::TenantConfig*> to_update;
  std::vector<const policy::TenantConfig*> to_start;
  std::set<uid_t> uids_in_use = {worker_.uid};
  for (const auto& now : after) {
    const policy::TenantConfig* old = find(before, now.name);
    HandlerFolder* folder = old ? tenant_folder(old->name) : nullptr;
    if (folder == nullptr) {
      to_start.push_back(&now);
      continue;
    }
    bool limits_only = now.handlers_dir == old->handlers_dir && now.user == old->user && now.ports == old->ports &&
                       now.tls == old->tls;
    if (!limits_only) {
      to_start.push_back(&now);
      continue;
    }
    if (!(now == *old)) to_update.push_back(&now);
    uids_in_use.insert(folder->worker_identity().uid);
  }
  // Every tenant to start is checked against the host before anything
  // changes: a missing folder or user, or a uid collision, keeps the whole
  // configuration in force, the running tenants untouched.
  tenant::UidRegistry registry(options_.config.state_dir + "/tenant-uids.json");
  std::map<std::string, WorkerIdentity> identities;
  if (!registry.load(error) ||
      !tenant::resolve_tenant_identities(to_start, worker_, registry, uids_in_use, identities, error)) {
    field = "/tenants";
    return refuse();
  }
  config_error_.clear();

  for (const auto& old : before) {
    HandlerFolder* folder = tenant_folder(old.name);
    if (folder == nullptr) continue;
    const policy::TenantConfig* now = find(after, old.name);
    // Kept (perhaps with new limits) unless it is among those to start.
    if (now != nullptr && !identities.contains(old.name)) continue;
    common::log::info(now ? "tenant-changed" : "tenant-removed").kv("tenant", old.name);
    retire_folder(*folder);
  }
  if (before.empty() && !after.empty() && cgroups_.version() == sandbox::CgroupVersion::none && cgroups_.reason().empty()) {
    cgroups_ = sandbox::CgroupTree::detect_system();
  }
  options_.config.tenants = next.tenants;
  options_.config.tenants_json = next.tenants_json;
  local_ca_.set_domains(all_domains(options_.config));
  for (const auto* changed : to_update) {
    const policy::TenantConfig& now = *find(options_.config.tenants, changed->name);
    HandlerFolder* folder = tenant_folder(now.name);
    folder->update_tenant(now);
    sandbox::CgroupPlacement placement;
    std::string cgroup_error;
    cgroups_.ensure_group(sandbox::tenant_group_name(now.name), {now.limits.memory_mb << 20, now.limits.pids},
                          placement, cgroup_error);
    std::string store_error;
    if (!store_->add_scope(now.name, folder->worker_identity().uid, folder->worker_identity().gid,
                           now.limits.store_mb << 20, store_error)) {
      common::log::error("tenant-store-update-failed").kv("tenant", now.name).kv("reason", store_error);
    }
    common::log::info("tenant-updated").kv("tenant", now.name);
  }
  for (const auto* starting : to_start) {
    const policy::TenantConfig& tenant = *find(options_.config.tenants, starting->name);
    std::string tenant_error;
    if (!make_tenant_folder(tenant, identities[tenant.name], tenant_error) || !folders_.back()->start(tenant_error)) {
      config_error_ += (config_error_.empty() ? "" : "; ") + tenant_error;
      common::log::error("tenant-failed").kv("tenant", tenant.name).kv("reason", tenant_error);
    }
  }
  if (!registry.save(error)) common::log::error("tenant-uids-unwritable").kv("reason", error);
  common::log::info("config-reloaded").kv("file", options_.config_path).kv("tenants", options_.config.tenants.size());
}

void Broker::retire_folder(HandlerFolder& folder) {
  auto found = std::find_if(folders_.begin(), folders_.end(), [&](const auto& f) { return f.get() == &folder; });
  if (found == folders_.end()) return;
  retiring_folders_.push_back(std::move(*found));
  folders_.erase(found);
  HandlerFolder* retiring = retiring_folders_.back().get();
  std::string tenant = retiring->tenant();
  retiring->stop_all([this, retiring, tenant] {
    // Destroyed on the next turn, outside its handlers' callbacks.
    retired_timer_.start(loop_, 0, [this, retiring, tenant] {
      std::erase_if(retiring_folders_, [&](const auto& f) { return f.get() == retiring; });
      if (tenant_folder(tenant) == nullptr) {
        cgroups_.remove_group(sandbox::tenant_group_name(tenant));
        store_->remove_scope(tenant);
      }
      apply_firewall();
      common::log::info("tenant-retired").kv("tenant", tenant);
    });
  });
}

bool Broker::connect_store(const std::string& tenant, common::UniqueFd& out, std::string& error) {
  return store_->connect(tenant, out, error);
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
  // What backs ctx.shared: the embedded store, or Redis/Valkey through the
  // relay, whose password and TLS files are read (and checked) now, as root.
  std::unique_ptr<StoreBackend> store_backend = make_embedded_backend();
  if (options_.config.store.external()) {
    store_backend = RelayBackend::create(loop_, options_.config.store, error);
    if (!store_backend) {
      common::log::error("startup-failed").kv("reason", error);
      return 1;
    }
  }
  store_ = std::make_unique<StoreService>(
      loop_, options_.config.run_dir, options_.config.log_level, store_sandbox, worker.sandbox,
      [this] { for_each_handler([](const HandlerFolder&, Handler& handler) { handler.reconnect_store(); }); },
      std::move(store_backend));
  if (!store_->start(error)) {
    common::log::error("startup-failed").kv("reason", error);
    return 1;
  }
  // With tenants, their users connect too; the peer's credentials decide.
  control_ = std::make_unique<ControlServer>(
      loop_, options_.config.run_dir + "/control.sock",
      [this](const nlohmann::json& request, uid_t peer_uid) { return on_control(request, peer_uid); },
      !options_.config.tenants.empty());
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
  if (!make_folders(error)) {
    common::log::error("startup-failed").kv("reason", error);
    return 1;
  }
  for (auto& folder : folders_) {
    if (!folder->start(error)) {
      common::log::error("startup-failed").kv_nonempty("tenant", folder->tenant()).kv("reason", error);
      return 1;
    }
  }
  handler_settled();  // covers folders with nothing to start
  // Start-up needed more than running does: keep only what running needs.
  capabilities_ = reduce_supervisor_privileges();
  uv_run(loop_, UV_RUN_DEFAULT);
  return exit_code_;
}

void Broker::hand_over(const Handler& handler) {
  policy::ClaimKey key{handler.file().id.transport, handler.file().id.port};
  // Claims go by the file's name, prefixed with its tenant's.
  auto find = [this](const std::string& claim_name) -> std::pair<HandlerFolder*, Handler*> {
    std::pair<HandlerFolder*, Handler*> found{nullptr, nullptr};
    for_each_handler([&](const HandlerFolder& folder, Handler& candidate) {
      if (folder.claim_name(candidate.file().file) == claim_name) {
        found = {const_cast<HandlerFolder*>(&folder), &candidate};
      }
    });
    return found;
  };
  std::string released;
  for_each_handler([&](const HandlerFolder& folder, const Handler& candidate) {
    if (&candidate == &handler) released = folder.claim_name(handler.file().file);
  });
  auto next = claims_.release(key, released);
  if (!next) return;
  auto [folder, successor] = find(*next);
  // One being removed too gives the port on when its own stop begins.
  if (successor == nullptr || folder->removing(successor) || shutting_down_) return;
  common::log::info("claim-taken-over")
      .kv("handler", successor->file().id.name)
      .kv_nonempty("tenant", folder->tenant())
      .kv("file", successor->file().file);
  successor->start();
  for (const auto& waiting : claims_.waiting(key)) {
    if (Handler* other = find(waiting).second) other->refuse(*next);
  }
  apply_firewall();
}

void Broker::apply_firewall() {
  // Every change of a handler's state (added, active, failed, removed) ends
  // here or in handler_settled().
  report_status();
  if (!firewall_) return;
  std::vector<FirewallPort> ports;
  std::vector<policy::EgressRule> egress;
  for_each_handler([&](const HandlerFolder&, const Handler& handler) {
    if (auto port = handler.firewall_port()) ports.push_back(*port);
    auto entries = handler.firewall_egress();
    egress.insert(egress.end(), entries.begin(), entries.end());
  });
  firewall_->apply(ports, egress);
}

void Broker::handler_settled() {
  report_status();
  if (ready_logged_ || shutting_down_ || folders_.empty()) return;
  size_t total = 0;
  size_t active = 0;
  size_t failed = 0;
  size_t refused = 0;
  bool settled = true;
  for_each_handler([&](const HandlerFolder&, const Handler& handler) {
    ++total;
    if (!handler.settled()) settled = false;
    switch (handler.state()) {
      case HandlerState::active: ++active; break;
      case HandlerState::refused: ++refused; break;
      default: ++failed; break;
    }
  });
  if (!settled) return;
  size_t ignored = 0;
  for (const auto& folder : folders_) ignored += folder->ignored().size();
  ready_logged_ = true;
  common::log::info("ready")
      .kv("handlers", total)
      .kv("active", active)
      .kv("failed", failed)
      .kv("refused", refused)
      .kv("ignored", ignored)
      .kv("tenants", folders_.size() - 1);
  reported_status_ = summary();
  notifier_.ready(reported_status_);
}

void Broker::report_status() {
  if (!ready_logged_ || shutting_down_) return;
  std::string now = summary();
  if (now == reported_status_) return;
  reported_status_ = std::move(now);
  notifier_.send("STATUS=" + reported_status_);
}

std::string Broker::summary() const {
  size_t total = 0;
  size_t active = 0;
  for_each_handler([&](const HandlerFolder&, const Handler& handler) {
    ++total;
    if (handler.state() == HandlerState::active) ++active;
  });
  return std::to_string(total) + " handlers, " + std::to_string(active) + " active";
}

HandlerFolder* Broker::tenant_folder(const std::string& name) const {
  for (const auto& folder : folders_) {
    if (!name.empty() && folder->tenant() == name) return folder.get();
  }
  return nullptr;
}

bool Broker::reload(const char* by, std::string& error, HandlerFolder* only) {
  if (shutting_down_) {
    error = "the broker is shutting down";
    return false;
  }
  common::log::info("reload-requested").kv("by", by);
  // Before the broker is ready the service manager waits for READY=1 anyway.
  if (ready_logged_) notifier_.reloading();
  // The operator's reload also reads the config again (the tenants).
  if (only == nullptr && !options_.config_path.empty()) reload_config();
  bool ok = true;
  for (auto& folder : folders_) {
    if (only != nullptr && folder.get() != only) continue;
    std::string folder_error;
    if (!folder->rescan(folder_error, true)) {
      ok = false;
      error += (error.empty() ? "" : "; ") + folder_error;
    }
  }
  if (ready_logged_) {
    reported_status_ = summary();
    notifier_.ready(reported_status_);
  }
  return ok;
}

nlohmann::json Broker::status(const HandlerFolder* only) const {
  nlohmann::json handlers = nlohmann::json::array();
  for_each_handler([&](const HandlerFolder& folder, const Handler& handler) {
    if (only == nullptr || &folder == only) handlers.push_back(folder.status_of(handler));
  });
  nlohmann::json ignored = nlohmann::json::array();
  nlohmann::json tenants = nlohmann::json::array();
  for (const auto& folder : folders_) {
    if (only != nullptr && folder.get() != only) continue;
    for (const auto& file : folder->ignored()) {
      ignored.push_back({{"file", file.file},
                         {"reason", file.reason},
                         {"tenant", folder->tenant().empty() ? nlohmann::json(nullptr) : nlohmann::json(folder->tenant())}});
    }
    if (auto tenant = folder->tenant_status(); !tenant.is_null()) tenants.push_back(std::move(tenant));
  }
  if (only != nullptr) {
    // A tenant sees its own handlers and the broker's state, nothing of
    // the host's configuration or of other tenants.
    return {
        {"broker",
         {{"version", "0.1.0"},
          {"uptime_s", (uv_now(loop_) - started_ms_) / 1000},
          {"state", shutting_down_ ? "stopping" : ready_logged_ ? "ready" : "starting"}}},
        {"tenants", tenants},
        {"handlers", handlers},
        {"ignored", ignored},
    };
  }
  return {
      {"broker",
       {
           {"pid", static_cast<int64_t>(getpid())},
           {"version", "0.1.0"},
           {"uptime_s", (uv_now(loop_) - started_ms_) / 1000},
           {"handlers_dir", options_.config.handlers_dir},
           {"run_dir", options_.config.run_dir},
           {"config", options_.config_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(options_.config_path)},
           {"config_error", config_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(config_error_)},
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
             {"restarts", store_ ? store_->restarts() : 0},
             {"backend", store_ ? store_->backend_status() : nlohmann::json{{"kind", "embedded"}}}}},
           {"connections", tracker_.size()},
       }},
      {"tenants", tenants},
      {"handlers", handlers},
      {"ignored", ignored},
  };
}

nlohmann::json Broker::connections(const std::string& handler, const HandlerFolder* only) const {
  uint64_t now = uv_now(loop_);
  nlohmann::json list = nlohmann::json::array();
  tracker_.for_each([&](uint64_t id, const TrackedConnection& connection) {
    if (connection.owner == nullptr) return;
    if (only != nullptr && connection.owner->tenant_name() != only->tenant()) return;
    if (!handler.empty() && connection.owner->handler_name() != handler) return;
    auto traffic = tcp_traffic(connection.fd.get());
    nlohmann::json entry = {
        {"id", id},
        {"handler", connection.owner->handler_name()},
        {"tenant", connection.owner->tenant_name().empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(connection.owner->tenant_name())},
        {"worker_pid", connection.owner->owner_pid()},
        {"peer", connection.remote.to_string()},
        {"via", connection.via.valid() ? nlohmann::json(connection.via.to_string()) : nlohmann::json(nullptr)},
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

std::string Broker::metrics(const HandlerFolder* only) {
  tracker_.sweep();  // counts as of now
  // The store's key count is host-wide: not a tenant's to see.
  return render_metrics(status(only), store_ && only == nullptr ? store_->key_count() : std::nullopt);
}

nlohmann::json Broker::on_control(const nlohmann::json& request, uid_t peer_uid) {
  std::string command = request["command"].get<std::string>();
  // Who asks decides what they see: root and the broker's own user every
  // folder (or one, with "tenant"), a tenant's user its own folder only.
  HandlerFolder* only = nullptr;
  bool operator_view = peer_uid == 0 || peer_uid == geteuid();
  if (operator_view) {
    if (request.contains("tenant")) {
      const auto& name = request["tenant"];
      if (!name.is_string() || !(only = tenant_folder(name.get<std::string>()))) {
        return {{"error", "no tenant named " + (name.is_string() ? "'" + name.get<std::string>() + "'" : name.dump())}};
      }
    }
  } else {
    for (const auto& folder : folders_) {
      if (!folder->tenant().empty() && folder->worker_identity().uid == peer_uid) only = folder.get();
    }
    if (only == nullptr) {
      common::log::warn("control-refused").kv("uid", static_cast<int64_t>(peer_uid));
      return {{"error", "permission denied: only root, the broker's user and tenants' users may use the control socket"}};
    }
    // Nothing host-wide for a tenant: no CA, no other tenant's data.
    static constexpr std::string_view kTenantCommands[] = {"status", "connections", "metrics", "reload"};
    if (std::find(std::begin(kTenantCommands), std::end(kTenantCommands), command) == std::end(kTenantCommands)) {
      return {{"error", "permission denied: '" + command + "' is the operator's"}};
    }
  }
  tracker_.sweep();  // what the operator sees is as of now
  if (command == "status") return status(only);
  if (command == "connections") {
    const auto& handler = request.value("handler", nlohmann::json(""));
    if (!handler.is_string()) return {{"error", "'handler' must be a string"}};
    bool known = handler.get<std::string>().empty();
    for_each_handler([&](const HandlerFolder& folder, const Handler& h) {
      known = known || ((only == nullptr || &folder == only) && h.file().id.name == handler);
    });
    if (!known) return {{"error", "no handler named '" + handler.get<std::string>() + "'"}};
    return connections(handler.get<std::string>(), only);
  }
  if (command == "metrics") return {{"text", metrics(only)}};
  if (command == "ca") {
    std::string error;
    if (!local_ca_.ensure(error)) return {{"error", error}};
    return {{"certificate", local_ca_.certificate_pem()}, {"file", local_ca_.certificate_file()}};
  }
  if (command == "reload") {
    std::string error;
    if (!reload(only ? "portbrokerctl (tenant)" : "portbrokerctl", error, only)) return {{"error", error}};
    size_t total = 0;
    for_each_handler([&](const HandlerFolder& folder, const Handler&) {
      if (only == nullptr || &folder == only) ++total;
    });
    return {{"reloaded", true}, {"handlers", total}};
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
  folders_stopping_ = folders_.size();
  auto finish_soon = [this] { finish_timer_.start(loop_, 0, [this] { finish_shutdown(); }); };
  if (folders_stopping_ == 0) {
    finish_soon();
    return;
  }
  for (auto& folder : folders_) {
    folder->stop_all([this, finish_soon] {
      if (--folders_stopping_ == 0) finish_soon();
    });
  }
}

void Broker::finish_shutdown() {
  if (finishing_) return;
  finishing_ = true;
  for (auto& folder : folders_) folder->clear();
  retiring_folders_.clear();
  retired_timer_.cancel();
  for (const auto& tenant : options_.config.tenants) cgroups_.remove_group(sandbox::tenant_group_name(tenant.name));
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
