#include "supervisor/handler_folder.h"

#include <algorithm>

#include "common/log.h"

namespace supervisor {

HandlerFolder::HandlerFolder(FolderHost& host, std::string dir, WorkerIdentity identity, policy::TlsSources tls,
                             const policy::TenantConfig* tenant, sandbox::CgroupPlacement cgroup,
                             std::string cgroup_note)
    : host_(host),
      dir_(std::move(dir)),
      identity_(std::move(identity)),
      tls_(std::move(tls)),
      tenant_(tenant ? std::optional<policy::TenantConfig>(*tenant) : std::nullopt),
      tenant_name_(tenant ? tenant->name : ""),
      cgroup_(std::move(cgroup)),
      cgroup_note_(std::move(cgroup_note)),
      oom_kills_seen_(sandbox::oom_kills(cgroup_)) {}

HandlerFolder::~HandlerFolder() { clear(); }

void HandlerFolder::clear() {
  watch_.reset();
  removal_timer_.cancel();
  rescan_timer_.cancel();
  handlers_.clear();
}

bool HandlerFolder::start(std::string& error) {
  if (!rescan(error)) return false;
  watch_ = std::make_unique<FolderWatch>(host_.loop(), dir_, kSettleMs, kMaxSettleMs, [this] { rescan_logged(); });
  std::string watch_error;
  if (!watch_->start(watch_error)) {
    // Reloads still work on SIGHUP and `portbrokerctl reload`.
    common::log::error("watch-failed").kv_nonempty("tenant", tenant_name_).kv("reason", watch_error);
  }
  watch_subfolders();
  return true;
}

std::string HandlerFolder::claim_name(const std::string& file) const {
  return tenant_name_.empty() ? file : tenant_name_ + "/" + file;
}

std::string HandlerFolder::tenant_refusal(const HandlerFile& file) const {
  if (!tenant_) return {};
  if (!tenant_->allows_port(file.id.port)) {
    return std::string(policy::transport_name(file.id.transport)) + " port " + std::to_string(file.id.port) +
           " is outside tenant " + tenant_name_ + "'s ports (" + tenant_->ports_text() + ")";
  }
  size_t serving = std::count_if(handlers_.begin(), handlers_.end(), [&](const auto& handler) {
    return !removing_.count(handler.get()) && !refused_outright_.count(handler.get()) &&
           handler->file().file != file.file;
  });
  if (serving >= tenant_->limits.handlers) {
    return "tenant " + tenant_name_ + " already has " + std::to_string(tenant_->limits.handlers) +
           " handlers (limits.handlers)";
  }
  return {};
}

bool HandlerFolder::rescan(std::string& error, bool forced) {
  if (host_.shutting_down()) return true;
  ScanResult scan;
  if (!scan_handlers_dir(dir_, tls_, scan, error)) {
    common::log::error("rescan-failed").kv_nonempty("tenant", tenant_name_).kv("reason", error);
    return false;
  }
  for (const auto& ignored : scan.ignored) {
    bool known = std::any_of(ignored_.begin(), ignored_.end(), [&](const IgnoredFile& seen) {
      return seen.file == ignored.file && seen.reason == ignored.reason;
    });
    if (!known) {
      common::log::warn("file-ignored").kv_nonempty("tenant", tenant_name_).kv("file", ignored.file).kv("reason", ignored.reason);
    }
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
    Handler* existing = find(file.file);
    if (existing != nullptr && refused_outright_.count(existing) && tenant_refusal(file).empty()) {
      // Room now (another handler went away, or the file moved into the
      // tenant's ports): it starts as a new file would.
      refused_outright_.erase(existing);
      std::erase_if(handlers_, [&](const auto& h) { return h.get() == existing; });
      existing = nullptr;
    }
    if (existing != nullptr) {
      // One still draining out comes back once it is gone (the rescan that
      // follows its removal).
      if (removing_.count(existing)) continue;
      if (refused_outright_.count(existing)) {
        if (std::string why = tenant_refusal(file); why != existing->reason()) existing->refuse_outright(why);
        continue;
      }
      bool retry = forced && existing->state() == HandlerState::failed;
      if (retry || existing->changed(file)) existing->update(std::move(file));
      continue;
    }
    auto handler = std::make_unique<Handler>(*this, std::move(file));
    common::log::info("handler-found")
        .kv("handler", handler->file().id.name)
        .kv_nonempty("tenant", tenant_name_)
        .kv("file", handler->file().file);
    // A tenant's file outside its allowance never claims, binds or reaches
    // the firewall.
    if (std::string why = tenant_refusal(handler->file()); !why.empty()) {
      handler->refuse_outright(why);
      refused_outright_.insert(handler.get());
      handlers_.push_back(std::move(handler));
      continue;
    }
    const HandlerFile& claimed = handler->file();
    policy::ClaimKey key{claimed.id.transport, claimed.id.port};
    auto outcome = host_.claims().claim(key, policy::ClaimPriority{claimed.mtime_ns, claim_name(claimed.file)});
    if (outcome.granted) {
      to_start.push_back(handler.get());
    } else {
      handler->refuse(outcome.holder);
    }
    handlers_.push_back(std::move(handler));
  }
  // The kernel screens before any new port opens.
  for (Handler* handler : to_start) handler->start();
  host_.apply_firewall();
  watch_subfolders();
  return true;
}

std::vector<Handler*> HandlerFolder::confirm_absences(ScanResult& scan) {
  uint64_t now = uv_now(host_.loop());
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
    rescan_timer_.start(host_.loop(), first + kConfirmAbsenceMs - now, [this] { rescan_logged(); });
  }
  return gone;
}

void HandlerFolder::rescan_logged() {
  std::string error;  // rescan() logs what went wrong
  rescan(error);
}

void HandlerFolder::request_rescan() {
  if (rescan_timer_.pending() || host_.shutting_down()) return;
  rescan_timer_.start(host_.loop(), kSettleMs, [this] { rescan_logged(); });
}

Handler* HandlerFolder::find(const std::string& file) const {
  for (const auto& handler : handlers_) {
    if (handler->file().file == file) return handler.get();
  }
  return nullptr;
}

void HandlerFolder::remove_handler(Handler& handler) {
  removing_.insert(&handler);
  common::log::info("handler-removed")
      .kv("handler", handler.file().id.name)
      .kv_nonempty("tenant", tenant_name_)
      .kv("file", handler.file().file);
  // One refused outright never claimed its port: nothing to hand over.
  bool claimed = !refused_outright_.count(&handler);
  auto port_released = [this, &handler, claimed] {
    if (claimed) host_.hand_over(handler);
  };
  handler.stop([this, &handler] {
    removed_.push_back(&handler);
    // Destroyed on the next turn, outside its own callbacks; then a rescan
    // picks up a file of the same name that came back meanwhile.
    removal_timer_.start(host_.loop(), 0, [this] {
      for (const Handler* gone : removed_) {
        removing_.erase(gone);
        refused_outright_.erase(gone);
        std::erase_if(handlers_, [&](const auto& h) { return h.get() == gone; });
      }
      removed_.clear();
      host_.apply_firewall();
      rescan_logged();
    });
  }, port_released);
}

void HandlerFolder::stop_all(std::function<void()> done) {
  watch_.reset();
  if (handlers_.empty()) {
    done();
    return;
  }
  auto remaining = std::make_shared<size_t>(handlers_.size());
  for (auto& handler : handlers_) {
    handler->stop([remaining, done] {
      if (--*remaining == 0) done();
    });
  }
}

void HandlerFolder::watch_subfolders() {
  if (!watch_) return;
  std::vector<std::string> folders;
  for (const auto& handler : handlers_) {
    for (const auto& dirs : {handler->module_dirs(), handler->tls_dirs()}) folders.insert(folders.end(), dirs.begin(), dirs.end());
  }
  watch_->watch_subfolders(folders);
}

void HandlerFolder::update_tenant(const policy::TenantConfig& tenant) {
  tenant_ = tenant;
  tls_ = tenant.tls;
  // A changed egress cap applies at once, to connects that follow.
  for (auto& handler : handlers_) handler->refresh_egress();
}

nlohmann::json HandlerFolder::status_of(const Handler& handler) const {
  nlohmann::json status = handler.status();
  status["tenant"] = tenant_name_.empty() ? nlohmann::json(nullptr) : nlohmann::json(tenant_name_);
  status["worker"]["uid"] = identity_.uid;
  return status;
}

nlohmann::json HandlerFolder::tenant_status() const {
  if (!tenant_) return nullptr;
  const auto& limits = tenant_->limits;
  size_t serving = handlers_.size() - refused_outright_.size();
  return {
      {"name", tenant_name_},
      {"handlers_dir", dir_},
      {"ports", tenant_->ports_text()},
      {"user", identity_.user},
      {"uid", identity_.uid},
      {"gid", identity_.gid},
      {"handlers", serving},
      {"connections", connections_},
      {"cgroup",
       cgroup_.empty() ? nlohmann::json{{"version", nullptr},
                                        {"reason", cgroup_note_ + "; each worker's memory watchdog applies instead"}}
                       : nlohmann::json{{"version", cgroup_.version == sandbox::CgroupVersion::v2 ? "v2" : "v1"},
                                        {"path", cgroup_.version == sandbox::CgroupVersion::v2 ? cgroup_.v2_dir
                                                                                                : cgroup_.v1_procs.front()}}},
      {"limits",
       {{"handlers", limits.handlers},
        {"connections", limits.connections},
        {"memory_mb", limits.memory_mb},
        {"store_mb", limits.store_mb},
        {"pids", limits.pids}}},
  };
}

}  // namespace supervisor
