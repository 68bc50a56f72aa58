#include "supervisor/handler.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "common/file_stamp.h"
#include "common/log.h"
#include "policy/handler_filename.h"
#include "policy/json_fields.h"
#include "supervisor/connection_tracker.h"
#include "supervisor/local_ca.h"
#include "supervisor/confinement_check.h"

namespace supervisor {
namespace {

// How long past open_ms a worker may take to report before it is killed
// (process start-up and engine boot come on top of open(ctx)).
constexpr uint64_t kReadySlackMs = 5000;
constexpr uint64_t kStopSlackMs = 2000;
// A worker that ran this long without crashing resets the crash count.
constexpr uint64_t kStableRunMs = 60000;
constexpr uint64_t kFirstRestartDelayMs = 250;
constexpr uint64_t kMaxRestartDelayMs = 30000;

}  // namespace

std::string_view state_name(HandlerState state) {
  switch (state) {
    case HandlerState::starting: return "starting";
    case HandlerState::active: return "active";
    case HandlerState::refused: return "refused";
    case HandlerState::failed: return "failed";
    case HandlerState::draining: return "draining";
    case HandlerState::stopped: return "stopped";
  }
  return "failed";
}

Handler::Handler(HandlerContext& context, HandlerFile file)
    : ctx_(context),
      file_(std::move(file)),
      serving_modules_{{file_.file, file_.code_stamp}},
      tls_({context.loop(), context.local_ca(), context.tls_sources(), context.tenant()}, file_.id.name),
      dialer_(context.loop(), context.tracker(), [&context] { return context.next_connection_id(); }, file_.id.name,
              context.tenant()),
      proxy_(context.loop(), file_.id.name, context.tenant(),
             {.admit = [this](common::UniqueFd fd, const common::SocketAddress& client,
                              std::optional<ipc::ProxyInfo> proxy) { admit(std::move(fd), client, std::move(proxy)); },
              .refused = [this] { ++counters_.refused; }}) {}

Handler::~Handler() {
  for (auto* slot : {&current_, &candidate_}) {
    if (*slot) ctx_.tracker().close_all_of((*slot)->process.get());
  }
  for (auto& worker : retiring_) ctx_.tracker().close_all_of(worker->process.get());
}

void Handler::refuse(const std::string& holder) {
  if (state_ == HandlerState::refused && held_by_ == holder) return;
  state_ = HandlerState::refused;
  held_by_ = holder;
  reason_ = std::string(policy::transport_name(file_.id.transport)) + " port " + std::to_string(file_.id.port) +
            " is already claimed by " + holder;
  common::log::warn("handler-refused").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("file", file_.file).kv("held_by", holder);
}

void Handler::refuse_outright(const std::string& reason) {
  state_ = HandlerState::refused;
  held_by_.clear();
  reason_ = reason;
  common::log::warn("handler-refused")
      .kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant())
      .kv("file", file_.file)
      .kv("reason", reason);
}

void Handler::fail(const std::string& reason) {
  bool was_starting = state_ == HandlerState::starting;
  state_ = HandlerState::failed;
  reason_ = reason;
  deadline_.cancel();
  candidate_deadline_.cancel();
  restart_timer_.cancel();
  tcp_.reset();
  proxy_.close_all();
  udp_.reset();
  common::log::error("handler-failed").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("file", file_.file).kv("reason", reason);
  // Their connections close as each exits. Retiring workers finish their
  // drain: their connections are not this failure's.
  if (current_) retire(std::move(current_), false);
  if (candidate_) retire(std::move(candidate_), false);
  ctx_.apply_firewall();
  if (was_starting) ctx_.handler_settled();
}

void Handler::start() {
  std::string error;
  state_ = HandlerState::starting;
  held_by_.clear();
  reason_.clear();
  // Fail closed: a manifest that does not parse means no port at all.
  if (!file_.manifest_error.empty()) return fail("invalid manifest " + file_.manifest_error);
  // Fail closed: a handler asking for TLS never opens in plaintext.
  TlsMaterial material;
  if (!tls_.load(tls_settings(file_), material, error)) return fail("tls: " + error);
  tls_.put_in_force(std::move(material));
  // Rate-limit and per-source state of an earlier run carries over.
  std::vector<std::string> warnings;
  admission_ = build_admission(file_, "", warnings, error);
  apply_egress(file_, "", warnings);
  // The port is bound first, so a taken port fails the handler before any
  // code runs; the kernel queues connections until the worker is ready, and
  // keeps queueing them while a crashed worker restarts.
  if (file_.id.transport == policy::Transport::tcp) {
    tcp_ = std::make_unique<TcpListener>(ctx_.loop(), file_.id.port);
    if (!tcp_->open(error)) return fail(error);
  } else {
    udp_ = std::make_unique<UdpEndpoint>(ctx_.loop(), file_.id.port);
    if (!udp_->open(error)) return fail(error);
  }
  spawn_current();
}

std::unique_ptr<Handler::Worker> Handler::launch(const HandlerFile& file, std::string& error) {
  const auto& config = ctx_.config();
  common::UniqueFd store_command;
  common::UniqueFd store_subscription;
  if (!ctx_.connect_store(store_command, error) || !ctx_.connect_store(store_subscription, error)) {
    return nullptr;
  }
  auto worker = std::make_unique<Worker>();
  worker->file = file;
  worker->process_limit_hits_at_start = ctx_.group_process_limit_hits();
  Worker* w = worker.get();
  worker->process = std::make_unique<WorkerProcess>(
      ctx_.loop(), file.id.name,
      WorkerProcess::Events{
          .ready = [this, w](const ipc::WorkerReady& ready) { on_worker_ready(w, ready); },
          .failed = [this, w](const ipc::WorkerFailed& failed) { on_worker_failed(w, failed); },
          .replies = [this](std::span<const uint8_t> batch) { return on_replies(batch); },
          .exited = [this, w](const std::string& description) { on_worker_exit(w, description); },
          // The backlog emptied: take connections from the listen queue again.
          .drained = [this, w] {
            if (tcp_ && state_ == HandlerState::active && current_.get() == w) tcp_->resume();
          },
          .handoff_failed = [this](uint64_t id) { ctx_.tracker().close(id); },
          .sandbox = [this, w](const ipc::WorkerSandbox& report) { on_sandbox_report(w, report); },
          .connection_closed = [this](uint64_t, const TrackedConnection& connection,
                                      bool idle) { on_connection_closed(connection, idle); },
          .tls_stats = [this](const ipc::TlsStats& delta) { tls_.on_stats(delta); },
          .tls_certificate_request = [this, w](const ipc::TlsCertificateRequest& request) {
            tls_.on_certificate_request(*w->process, tls_settings(file_), request);
          },
          .store_reconnect = [this, w] { reconnect_store(*w); },
          .modules_loaded = [this, w](const ipc::ModulesLoaded& loaded) { on_modules_loaded(w, loaded); },
          .egress_connect = [this, w](const ipc::EgressConnect& request) { dialer_.connect(*w->process, request); },
          .egress_lookup = [this, w](const ipc::EgressLookup& request) { dialer_.lookup(*w->process, request); },
      },
      ctx_.tenant());
  auto init = make_worker_init(config, ctx_.handlers_dir(), file, ctx_.worker_identity(), tls_.worker_json(), ctx_.tenant());
  worker->http_client = init.http_client;
  if (!worker->process->start(ctx_.worker_executable(), init, std::move(store_command),
                              std::move(store_subscription), error, ctx_.worker_cgroup())) {
    return nullptr;
  }
  common::log::info("worker-started").kv("handler", file.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("pid", worker->process->pid());
  return worker;
}

void Handler::spawn_current() {
  std::string error;
  current_ = launch(file_, error);
  if (!current_) return fail(error);
  uint64_t limit = ctx_.config().open_timeout_ms + kReadySlackMs;
  deadline_.start(ctx_.loop(), limit, [this, limit] {
    if (state_ != HandlerState::starting || !current_) return;
    std::string reason = "the worker did not report ready within " + std::to_string(limit) + " ms";
    if (!candidate_) return fail(reason);
    // A newer version is loading: it takes over.
    current_->last_reason = reason;
    retire(std::move(current_), false);
  });
}

bool Handler::differs(const std::vector<ipc::ModuleFile>& seen, const HandlerFile* file) const {
  const std::string& root = ctx_.handlers_dir();
  return std::any_of(seen.begin(), seen.end(), [&](const ipc::ModuleFile& module) {
    if (file != nullptr && module.path == file->file) return file->code_stamp != module.stamp;
    return common::file_stamp(root + "/" + module.path) != module.stamp;
  });
}

std::vector<ipc::ModuleFile> Handler::stamps_now(const HandlerFile& file) const {
  const std::string& root = ctx_.handlers_dir();
  std::set<std::string> paths;
  for (const auto* known : {&serving_modules_, &failed_modules_}) {
    for (const auto& module : *known) paths.insert(module.path);
  }
  std::vector<ipc::ModuleFile> stamps = {{file.file, file.code_stamp}};
  for (const auto& path : paths) {
    if (path != file.file) stamps.push_back({path, common::file_stamp(root + "/" + path)});
  }
  return stamps;
}

bool Handler::code_changed(const HandlerFile& file) const {
  // A loading candidate is the version to compare with.
  if (candidate_) return differs(candidate_modules_, &file);
  // A version that failed to load is tried again only once one of the files
  // it read changes (a fixed import, a created missing one); otherwise what
  // the serving version read: its entry and every import.
  if (!failed_modules_.empty()) return differs(failed_modules_, &file);
  return differs(serving_modules_, &file);
}

bool Handler::changed(const HandlerFile& file) const {
  // A rejected manifest counts as seen until it changes again (to anything,
  // including back to the version in force, which clears the error).
  bool manifest_changed = rejected_manifest_.empty() ? file.manifest_signature != file_.manifest_signature
                                                     : file.manifest_signature != rejected_manifest_;
  return manifest_changed || code_changed(file) || tls_.files_changed(tls_settings(file_));
}

const policy::TlsSettings* Handler::tls_settings(const HandlerFile& file) {
  return file.manifest && file.manifest->tls.enabled ? &file.manifest->tls : nullptr;
}

void Handler::put_tls_in_force(TlsMaterial material) {
  if (!tls_.put_in_force(std::move(material))) return;
  // Running workers switch at once (TLS on, off, new settings or rotated
  // certificates) for the connections that follow: never a moment of
  // plaintext once TLS is asked for.
  send_tls_update();
}

void Handler::send_tls_update() {
  for (Worker* worker : {current_.get(), candidate_.get()}) {
    if (worker != nullptr) worker->process->send_tls_update(tls_.worker_json());
  }
}

void Handler::now_serving(const std::vector<ipc::ModuleFile>& modules) {
  if (!modules.empty()) serving_modules_ = modules;
  failed_modules_.clear();
  // A file changed while the worker was reading: the rescan loads it.
  if (differs(serving_modules_, nullptr)) ctx_.request_rescan();
}

void Handler::update(HandlerFile file) {
  switch (state_) {
    case HandlerState::refused:
      // It waits with the priority it had; the newest version starts if it wins.
      file_ = std::move(file);
      serving_modules_ = {{file_.file, file_.code_stamp}};
      return;
    case HandlerState::failed:
      // A new version gets a fresh start.
      file_ = std::move(file);
      consecutive_crashes_ = 0;
      code_error_.clear();
      manifest_error_.clear();
      rejected_manifest_.clear();
      tls_.clear_error();
      common::log::info("handler-retrying").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("file", file_.file);
      start();
      return;
    case HandlerState::draining:
    case HandlerState::stopped:
      return;
    case HandlerState::starting:
    case HandlerState::active:
      break;
  }
  bool code = code_changed(file);
  if (!file.manifest_error.empty()) {
    // Fail closed for access: the policy in force stays.
    if (file.manifest_signature != rejected_manifest_) {
      rejected_manifest_ = file.manifest_signature;
      manifest_error_ = "invalid manifest " + file.manifest_error + " (the previous policy stays in force)";
      common::log::error("manifest-rejected").kv("handler", file.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("reason", file.manifest_error);
    }
  } else {
    rejected_manifest_.clear();
    manifest_error_.clear();
    // A new policy applies at once, also when new code comes with it.
    if (file.manifest_signature != file_.manifest_signature) apply_manifest(file);
  }
  if (tls_.files_changed(tls_settings(file_)) && tls_.refresh(*tls_settings(file_))) send_tls_update();
  if (!code) {
    // A manifest that now lets the handler connect, for a worker started
    // without fetch()'s HTTP client: a new worker, loaded as for new code.
    const Worker* newest = candidate_ ? candidate_.get() : current_.get();
    if (newest != nullptr && !newest->http_client && wants_http_client(file_)) start_candidate(file_);
    return;
  }
  // The candidate runs under the policy in force.
  file.manifest = file_.manifest;
  file.manifest_file = file_.manifest_file;
  file.manifest_error.clear();
  file.manifest_signature = file_.manifest_signature;
  start_candidate(std::move(file));
}

void Handler::apply_manifest(const HandlerFile& file) {
  // TLS settings that cannot be used are refused like an invalid manifest:
  // the policy (and the certificates) in force stay.
  TlsMaterial material;
  std::string tls_error;
  if (!tls_.load(tls_settings(file), material, tls_error)) {
    rejected_manifest_ = file.manifest_signature;
    manifest_error_ = "tls: " + tls_error + " (the previous policy stays in force)";
    common::log::error("manifest-rejected").kv("handler", file.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("reason", "tls: " + tls_error);
    return;
  }
  if (candidate_) {
    // The candidate keeps it when it takes over.
    candidate_->file.manifest = file.manifest;
    candidate_->file.manifest_file = file.manifest_file;
    candidate_->file.manifest_signature = file.manifest_signature;
  }
  HandlerFile next = file_;
  next.manifest = file.manifest;
  next.manifest_file = file.manifest_file;
  next.manifest_signature = file.manifest_signature;
  std::vector<std::string> warnings;
  std::string error;
  auto admission = build_admission(next, current_ ? current_->access_json : "", warnings, error);
  if (!admission) return reload_failed(error);
  admission_ = std::move(admission);
  apply_egress(next, current_ ? current_->access_json : "", warnings);
  access_warnings_ = std::move(warnings);
  file_ = std::move(next);
  put_tls_in_force(std::move(material));
  ctx_.apply_firewall();
  common::log::info("manifest-applied").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("manifest", file_.manifest_file);
}

void Handler::refresh_egress() {
  std::vector<std::string> warnings;
  apply_egress(file_, current_ ? current_->access_json : "", warnings);
}

void Handler::apply_egress(const HandlerFile& file, const std::string& access_json,
                           std::vector<std::string>& warnings) {
  const auto& config = ctx_.config();
  std::optional<policy::Manifest> manifest;
  if (file.manifest) manifest = *file.manifest;
  auto egress = policy::effective_egress(manifest, ctx_.egress_cap(), config.egress, warnings);
  if (!access_json.empty()) {
    // build_admission parsed it already: an invalid one never gets here.
    try {
      auto access = policy::parse_manifest(access_json, file.id.transport, policy::ManifestKind::module_access);
      auto more = policy::tighten_egress(egress, access);
      warnings.insert(warnings.end(), more.begin(), more.end());
    } catch (const policy::JsonFieldError&) {
      egress.policy = {};  // fail closed
    }
  }
  dialer_.set_policy(std::move(egress), {config.egress.connect_timeout_ms, config.egress.lookup_timeout_ms});
}

std::unique_ptr<Admission> Handler::build_admission(const HandlerFile& file, const std::string& access_json,
                                                    std::vector<std::string>& warnings, std::string& error) {
  const auto& config = ctx_.config();
  auto effective = policy::effective_policy(file.manifest, file.id.transport, config.screening);
  // Each connection holds one of the broker's descriptors: a cap the broker
  // cannot honour would only move the failure into accept, for everyone.
  if (file.id.transport == policy::Transport::tcp && effective.max_connections > ctx_.connection_ceiling()) {
    warnings.push_back("maxConnections " + std::to_string(effective.max_connections) +
                       " is above what the broker's descriptor limit allows; " +
                       std::to_string(ctx_.connection_ceiling()) + " applies");
    effective.max_connections = static_cast<uint32_t>(ctx_.connection_ceiling());
  }
  auto admission = std::make_unique<Admission>(std::move(effective), config.screening);
  if (!access_json.empty()) {
    // The module's `access` only tightens; an invalid one fails closed.
    try {
      auto access = policy::parse_manifest(access_json, file.id.transport, policy::ManifestKind::module_access);
      auto access_warnings = admission->tighten(access);
      warnings.insert(warnings.end(), access_warnings.begin(), access_warnings.end());
    } catch (const policy::JsonFieldError& e) {
      error = std::string("invalid access export: ") + e.what();
      return nullptr;
    }
  }
  if (admission_) admission->inherit(std::move(*admission_));
  return admission;
}

void Handler::start_candidate(HandlerFile file) {
  if (candidate_) {
    // Superseded before it was ready: the newest version is what counts.
    candidate_deadline_.cancel();
    retire(std::move(candidate_), false);
  }
  std::string error;
  candidate_modules_ = stamps_now(file);
  candidate_ = launch(file, error);
  if (!candidate_) return drop_candidate(error);
  common::log::info("reload-started").kv("handler", file.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("pid", candidate_->process->pid());
  uint64_t limit = ctx_.config().open_timeout_ms + kReadySlackMs;
  candidate_deadline_.start(ctx_.loop(), limit, [this, limit] {
    if (candidate_) drop_candidate("the new version did not report ready within " + std::to_string(limit) + " ms");
  });
}

void Handler::drop_candidate(const std::string& reason) {
  candidate_deadline_.cancel();
  failed_modules_ = candidate_modules_;
  if (candidate_) {
    if (!candidate_->tried.empty()) failed_modules_ = candidate_->tried;
    retire(std::move(candidate_), false);
  }
  reload_failed(reason);
  bool serving_wanted = state_ == HandlerState::starting || state_ == HandlerState::active;
  if (serving_wanted && !current_ && !restart_timer_.pending()) schedule_restart(reason);
  ctx_.watch_subfolders();
}

void Handler::promote() {
  candidate_deadline_.cancel();
  std::vector<std::string> warnings;
  std::string error;
  auto admission = build_admission(candidate_->file, candidate_->access_json, warnings, error);
  if (!admission) return drop_candidate(error);
  auto previous = std::move(current_);
  current_ = std::move(candidate_);
  file_ = current_->file;
  admission_ = std::move(admission);
  apply_egress(file_, current_->access_json, warnings);
  access_warnings_ = std::move(warnings);
  access_exported_ = !current_->access_json.empty();
  code_error_.clear();
  consecutive_crashes_ = 0;
  ++reloads_;
  // The old version finishes what it has: ctx.signal, close(ctx), drain.
  if (previous) retire(std::move(previous), true);
  bool was_starting = state_ == HandlerState::starting;
  state_ = HandlerState::active;
  reason_.clear();
  deadline_.cancel();
  restart_timer_.cancel();
  active_since_ms_ = uv_now(ctx_.loop());
  resume_traffic();
  ctx_.apply_firewall();
  common::log::info("handler-reloaded")
      .kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant())
      .kv("pid", current_->process->pid())
      .kv("reloads", reloads_);
  now_serving(current_->modules);
  ctx_.watch_subfolders();
  if (was_starting) ctx_.handler_settled();
}

void Handler::retire(std::unique_ptr<Worker> worker, bool graceful) {
  if (!worker->process->running()) return reap(std::move(worker));
  if (graceful && worker->ready) {
    const auto& config = ctx_.config();
    worker->process->stop(ipc::WorkerStop{config.close_timeout_ms, config.drain_timeout_ms},
                          uint64_t{config.close_timeout_ms} + config.drain_timeout_ms + kStopSlackMs);
  } else {
    worker->process->kill();
  }
  retiring_.push_back(std::move(worker));
}

void Handler::reap(std::unique_ptr<Worker> worker) {
  dialer_.forget(worker->process.get());
  ctx_.tracker().close_all_of(worker->process.get());
  ended_.push_back(std::move(worker));
  reap_timer_.start(ctx_.loop(), 0, [this] { ended_.clear(); });
}

std::unique_ptr<Handler::Worker> Handler::take(Worker* worker) {
  for (auto* slot : {&current_, &candidate_}) {
    if (slot->get() == worker) return std::move(*slot);
  }
  auto found = std::find_if(retiring_.begin(), retiring_.end(), [&](const auto& w) { return w.get() == worker; });
  if (found == retiring_.end()) return nullptr;
  auto taken = std::move(*found);
  retiring_.erase(found);
  return taken;
}

void Handler::on_worker_ready(Worker* worker, const ipc::WorkerReady& ready) {
  worker->ready = true;
  worker->access_json = ready.access_json;
  worker->modules = ready.modules;
  if (worker == candidate_.get()) return promote();
  if (worker != current_.get() || state_ != HandlerState::starting) return;
  // The first worker, or one restarted after a crash. Its policy comes from
  // the manifest again: a restarted worker's `access` must not be applied on
  // top of its predecessor's.
  access_exported_ = !ready.access_json.empty();
  std::vector<std::string> warnings;
  std::string error;
  auto admission = build_admission(file_, ready.access_json, warnings, error);
  if (!admission) return fail(error);
  admission_ = std::move(admission);
  apply_egress(file_, ready.access_json, warnings);
  access_warnings_ = std::move(warnings);
  for (const auto& warning : access_warnings_) {
    common::log::warn("access-not-applied").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("reason", warning);
  }
  state_ = HandlerState::active;
  reason_.clear();
  deadline_.cancel();
  active_since_ms_ = uv_now(ctx_.loop());
  resume_traffic();
  common::log::info("handler-active")
      .kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant())
      .kv("protocol", policy::transport_name(file_.id.transport))
      .kv("port", file_.id.port)
      .kv("pid", current_->process->pid());
  now_serving(current_->modules);
  ctx_.watch_subfolders();
  ctx_.handler_settled();
}

void Handler::on_modules_loaded(Worker* worker, const ipc::ModulesLoaded& loaded) {
  // The serving version read more files (a dynamic import()): they are part
  // of it now, and a change to any of them reloads it, as for static imports.
  if (worker != current_.get()) return;
  for (const auto& module : loaded.modules) {
    if (serving_modules_.size() >= ipc::kMaxReportedModules) break;
    bool known = std::any_of(serving_modules_.begin(), serving_modules_.end(),
                             [&](const ipc::ModuleFile& seen) { return seen.path == module.path; });
    if (!known) serving_modules_.push_back(module);
  }
  ctx_.watch_subfolders();
  // Changed between the read and now: the rescan loads it.
  if (differs(serving_modules_, nullptr)) ctx_.request_rescan();
}

void Handler::on_worker_failed(Worker* worker, const ipc::WorkerFailed& failed) {
  bool process_limit = hit_process_limit(*worker);
  worker->last_reason = failed.reason + (process_limit ? process_limit_note() : "");
  worker->tried = failed.modules;
  // It exits by itself; the version in force keeps serving.
  if (worker == candidate_.get()) return drop_candidate(worker->last_reason);
  // Its code does not load: restarting would not help (unless a newer
  // version is already loading: it takes over). One its tenant's process
  // limit starved restarts when it exits.
  if (worker == current_.get() && state_ == HandlerState::starting && consecutive_crashes_ == 0 && !candidate_ &&
      !process_limit) {
    if (!failed.modules.empty()) failed_modules_ = failed.modules;
    fail(failed.reason);
    ctx_.watch_subfolders();
  }
}

bool Handler::hit_process_limit(const Worker& worker) const {
  return ctx_.group_process_limit_hits() > worker.process_limit_hits_at_start;
}

std::string Handler::process_limit_note() const {
  return " (tenant " + ctx_.tenant() + "'s process limit, limits.pids, refused it a thread or process)";
}

void Handler::reload_failed(const std::string& reason) {
  code_error_ = reason;
  common::log::error("reload-failed").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("reason", reason);
}

void Handler::on_worker_exit(Worker* worker, const std::string& exit_description) {
  // The worker's own account first, when it gave one.
  std::string description = worker->last_reason.empty() ? exit_description
                                                         : worker->last_reason + " (" + exit_description + ")";
  if (exit_description == "killed by signal SIGKILL" && ctx_.group_out_of_memory()) {
    description += " (the kernel's OOM killer: tenant " + ctx_.tenant() + "'s memory limit, limits.memory_mb)";
  }
  // A runtime that cannot start a thread crashes; the kernel counted why.
  bool process_limit = hit_process_limit(*worker);
  if (process_limit && worker->last_reason.empty()) description += process_limit_note();
  bool was_current = worker == current_.get();
  bool was_candidate = worker == candidate_.get();
  auto ended = take(worker);
  if (!ended) return;
  reap(std::move(ended));
  if (was_current) {
    last_exit_ = description;
    on_current_exit(description, process_limit);
  } else if (state_ == HandlerState::draining) {
    last_exit_ = description;  // for the handler-stopped line
  } else if (was_candidate) {
    drop_candidate("the new version's worker " + description + " before it was ready");
  }
  finish_stop_when_idle();
}

void Handler::on_current_exit(const std::string& description, bool process_limit) {
  // Its ready deadline must not fire for a worker that is gone.
  deadline_.cancel();
  switch (state_) {
    case HandlerState::starting:
      if (candidate_) return;  // the new version takes over when ready
      if (consecutive_crashes_ == 0 && !process_limit) {
        // It never became ready: its code does not load; restarting would not
        // help. (Its tenant's processes may end meanwhile: that one retries.)
        fail("the worker " + description + " before it was ready");
      } else {
        schedule_restart(description);
      }
      return;
    case HandlerState::active:
      // Its connections died with it; the port stays bound (the kernel queues
      // new connections) while a new worker starts.
      common::log::error("worker-exited").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("reason", description);
      pause_traffic();
      if (candidate_) {
        state_ = HandlerState::starting;  // the new version takes over when ready
        return;
      }
      schedule_restart(description);
      return;
    default:
      return;
  }
}

void Handler::on_sandbox_report(Worker* worker, const ipc::WorkerSandbox& report) {
  auto fail_worker = [&](const std::string& reason) {
    if (worker == candidate_.get()) return drop_candidate(reason);
    if (worker == current_.get()) return fail(reason);
    // One already on its way out: it ends now.
    common::log::error("worker-not-confined").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("reason", reason);
    worker->process->kill();
  };
  worker->sandbox = sandbox_status(report);
  // Read after its exit (WorkerProcess::read_last_words): the process is gone,
  // so the kernel can no longer be asked, nor can its confinement matter.
  if (!worker->process->running()) return;
  // What the kernel shows outranks what the worker says.
  const auto& config = ctx_.config();
  std::string mismatch =
      check_confinement(worker->process->pid(),
                        ExpectedConfinement{ctx_.worker_identity().uid, ctx_.worker_identity().gid, config.worker.sandbox});
  if (!mismatch.empty()) return fail_worker("the worker is not confined as required: " + mismatch);
  if (config.worker.sandbox) worker->sandbox["namespaces"] = worker->process->namespaces();
  if (!report.missing.empty()) {
    // Never confined less than asked without saying so, loudly.
    common::log::warn("sandbox-incomplete")
        .kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant())
        .kv("missing", worker->sandbox["missing"].dump());
  }
}

void Handler::reconnect_store() {
  if (current_) reconnect_store(*current_);
  if (candidate_) reconnect_store(*candidate_);
  for (auto& worker : retiring_) reconnect_store(*worker);
}

void Handler::reconnect_store(Worker& worker) {
  if (!worker.process->running()) return;
  std::string error;
  common::UniqueFd command;
  common::UniqueFd subscription;
  if (!ctx_.connect_store(command, error) || !ctx_.connect_store(subscription, error) ||
      !worker.process->send_store_connections(std::move(command), std::move(subscription))) {
    // Its ctx.shared stays unavailable until it asks again (or restarts).
    common::log::error("store-reconnect-failed").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("reason", error);
  }
}

void Handler::resume_traffic() {
  if (tcp_) {
    tcp_->resume([this](common::UniqueFd fd, const common::SocketAddress& remote) { on_accept(std::move(fd), remote); });
  } else if (udp_) {
    udp_->resume(
        [this](const common::SocketAddress& peer, size_t bytes) {
          auto refusal = admission_->admit_datagram(peer, bytes, uv_now(ctx_.loop()));
          if (refusal == policy::Refusal::none) return true;
          ++counters_.datagrams_refused;
          admission_->count(refusal);
          return false;
        },
        [this](const ipc::DatagramBatch& batch) { on_datagrams(batch); });
  }
}

void Handler::pause_traffic() {
  if (tcp_) tcp_->pause();
  if (udp_) udp_->pause();
}

void Handler::schedule_restart(const std::string& description) {
  if (restart_timer_.pending()) return;
  const auto& worker = ctx_.config().worker;
  uint64_t now = uv_now(ctx_.loop());
  if (active_since_ms_ != 0 && now - active_since_ms_ >= kStableRunMs) consecutive_crashes_ = 0;
  // Counts again from the next time a worker becomes ready.
  active_since_ms_ = 0;
  // The ready deadline of the worker that died must not fire during the back-off.
  deadline_.cancel();
  ++consecutive_crashes_;
  if (consecutive_crashes_ > worker.max_restarts) {
    return fail("the worker crashed " + std::to_string(consecutive_crashes_) + " times in a row; last: " + description);
  }
  uint64_t delay = std::min(kMaxRestartDelayMs, kFirstRestartDelayMs << std::min(consecutive_crashes_ - 1, 16u));
  state_ = HandlerState::starting;
  reason_ = "restarting after: " + description + " (attempt " + std::to_string(consecutive_crashes_) + " of " +
            std::to_string(worker.max_restarts) + ")";
  common::log::warn("worker-restarting")
      .kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant())
      .kv("reason", description)
      .kv("attempt", consecutive_crashes_)
      .kv("delay_ms", delay);
  // A restart loads what is on disk, like any start. A candidate loading
  // meanwhile is that version already: it takes over instead.
  restart_timer_.start(ctx_.loop(), delay, [this] {
    if (candidate_) return;
    ++restarts_;
    spawn_current();
  });
}

void Handler::refuse_connection(policy::Refusal reason, const common::SocketAddress& remote) {
  ++counters_.refused;
  admission_->count(reason);
  common::log::debug("connection-refused")
      .kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant())
      .kv("peer", remote.to_string())
      .kv("reason", policy::refusal_name(reason));
}

void Handler::on_accept(common::UniqueFd fd, const common::SocketAddress& remote) {
  ++counters_.accepted;
  const auto* trust = admission_ && admission_->policy().proxy ? &*admission_->policy().proxy : nullptr;
  if (trust == nullptr || state_ != HandlerState::active || !current_) return admit(std::move(fd), remote, std::nullopt);
  // Connections waiting for their header count against the handler's cap,
  // and against the broker's descriptors, as open ones do.
  auto left = [](uint64_t limit, uint64_t used) { return limit > used ? limit - used : 0; };
  uint64_t room = std::min(left(admission_->policy().max_connections, counters_.active),
                           left(ctx_.connection_ceiling(), ctx_.tracker().size()));
  if (!proxy_.take(std::move(fd), remote, *trust, room)) {
    refuse_connection(policy::Refusal::max_connections, remote);
  }
}

void Handler::admit(common::UniqueFd fd, const common::SocketAddress& remote, std::optional<ipc::ProxyInfo> proxy) {
  // Every return below without a hand-off closes `fd`: the connection is refused.
  if (state_ != HandlerState::active || !current_) {
    ++counters_.refused;
    return;
  }
  policy::IpAddress source = to_ip(remote);
  // A cap about to refuse counts closes the kernel already reported.
  if (admission_->at_capacity(source, counters_.active)) ctx_.tracker().sweep();
  auto refusal = admission_->admit_connection(source, counters_.active, uv_now(ctx_.loop()));
  if (refusal != policy::Refusal::none) return refuse_connection(refusal, remote);
  if (ctx_.tracker().size() >= ctx_.connection_ceiling()) {
    // Every handler together at the broker's own descriptor limit.
    admission_->connection_closed(source);
    return refuse_connection(policy::Refusal::max_connections, remote);
  }
  if (ctx_.connection_quota_full()) {
    ctx_.tracker().sweep();  // closes the kernel reported count first
    if (ctx_.connection_quota_full()) {
      admission_->connection_closed(source);
      return refuse_connection(policy::Refusal::tenant_connections, remote);
    }
  }
  uint64_t id = ctx_.next_connection_id();
  WorkerProcess& worker = *current_->process;
  // Handed off first: the worker usually wakes on another CPU, and tracking
  // happens meanwhile instead of delaying its greeting. A connection the
  // tracker cannot take is ended by it.
  common::SocketAddress via = proxy ? proxy->balancer : common::SocketAddress();
  if (!worker.hand_off(ipc::ConnectionHandoff{id, remote, std::move(proxy)}, fd.get()) ||
      !ctx_.tracker().add(id, TrackedConnection{std::move(fd), &worker, remote, admission_->idle_timeout_ms(), 0, via})) {
    ++counters_.refused;
    admission_->connection_closed(source);
    return;
  }
  ++counters_.active;
  ctx_.connection_opened();
  // The worker is not keeping up: leave further connections in the kernel's
  // listen queue until the backlog drains.
  if (worker.queued_handoffs() >= WorkerProcess::kMaxQueuedHandoffs) tcp_->pause();
}

void Handler::on_connection_closed(const TrackedConnection& connection, bool idle) {
  if (connection.outbound) return dialer_.on_closed();
  if (counters_.active > 0) {
    --counters_.active;
    ctx_.connection_closed();
  }
  if (!admission_) return;
  admission_->connection_closed(to_ip(connection.remote));
  if (idle) admission_->count(policy::Refusal::idle_timeout);
}

void Handler::on_datagrams(const ipc::DatagramBatch& batch) {
  counters_.datagrams_received += batch.count();
  admission_->expire_sessions(uv_now(ctx_.loop()));
  if (!current_ || !current_->process->send_datagrams(batch.bytes())) counters_.datagrams_dropped += batch.count();
}

bool Handler::on_replies(std::span<const uint8_t> batch) {
  if (!udp_) return true;
  // Replies go only to sources that sent within the session window, so a
  // worker cannot use the handler's port to reach anyone else, and within
  // their budgets, so it cannot amplify what a (spoofed) source sent.
  uint64_t now = uv_now(ctx_.loop());
  auto result = udp_->send_replies(batch, [&](const common::SocketAddress& peer, size_t bytes) {
    return admission_->may_reply_to(peer, bytes, now);
  });
  counters_.replies_sent += result.sent;
  counters_.replies_failed += result.failed;
  counters_.replies_refused += result.refused;
  return !result.malformed;
}

void Handler::stop(std::function<void()> done, std::function<void()> port_released) {
  if (port_released) on_port_released_ = std::move(port_released);
  if (state_ == HandlerState::draining) {
    // Stopped again (a shutdown during a removal): both learn the end.
    on_stopped_ = [first = std::move(on_stopped_), then = std::move(done)] {
      if (first) first();
      then();
    };
    return;
  }
  restart_timer_.cancel();  // a worker waiting to restart stays stopped
  deadline_.cancel();
  candidate_deadline_.cancel();
  bool was_starting = state_ == HandlerState::starting;
  if (state_ == HandlerState::refused || state_ == HandlerState::failed || state_ == HandlerState::stopped) {
    release_port();
    done();
    return;
  }
  on_stopped_ = std::move(done);
  state_ = HandlerState::draining;
  if (was_starting) ctx_.handler_settled();
  // No new connections from here on; datagrams stop too, but the socket stays
  // for replies sent while close(ctx) runs.
  if (tcp_) {
    tcp_.reset();
    proxy_.close_all();
    release_port();
  }
  if (udp_) udp_->pause();
  if (candidate_) retire(std::move(candidate_), false);
  if (current_) retire(std::move(current_), true);
  finish_stop_when_idle();
}

void Handler::finish_stop_when_idle() {
  if (state_ != HandlerState::draining || current_ || candidate_ || !retiring_.empty()) return;
  udp_.reset();
  state_ = HandlerState::stopped;
  release_port();
  common::log::info("handler-stopped").kv("handler", file_.id.name).kv_nonempty("tenant", ctx_.tenant()).kv("worker", last_exit_);
  if (on_stopped_) std::exchange(on_stopped_, nullptr)();
}

void Handler::release_port() {
  if (on_port_released_) std::exchange(on_port_released_, nullptr)();
}

nlohmann::json Handler::status() const {
  const Worker* serving = current_.get();
  nlohmann::json worker = {
      {"pid", serving && serving->process->running() ? nlohmann::json(serving->process->pid()) : nlohmann::json(nullptr)},
      {"restarts", restarts_},
      {"last_exit", last_exit_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_exit_)},
      {"sandbox", serving ? serving->sandbox : nlohmann::json(nullptr)},
  };
  nlohmann::json retiring = nlohmann::json::array();
  for (const auto& old : retiring_) retiring.push_back(old->process->pid());
  nlohmann::json status = {
      {"file", file_.file},
      {"name", file_.id.name},
      {"protocol", policy::transport_name(file_.id.transport)},
      {"port", file_.id.port},
      {"state", state_name(state_)},
      {"reason", reason_.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason_)},
      {"worker", worker},
      {"reload",
       {{"reloads", reloads_},
        {"error", reload_error().empty() ? nlohmann::json(nullptr) : nlohmann::json(reload_error())},
        {"loading_pid", candidate_ ? nlohmann::json(candidate_->process->pid()) : nlohmann::json(nullptr)},
        {"retiring_pids", retiring}}},
      {"connections", {{"active", counters_.active}, {"accepted", counters_.accepted}, {"refused", counters_.refused}}},
  };
  if (!held_by_.empty()) status["held_by"] = held_by_;
  if (file_.id.transport == policy::Transport::udp) {
    status["datagrams"] = {{"received", counters_.datagrams_received},
                           {"refused", counters_.datagrams_refused},
                           {"dropped", counters_.datagrams_dropped},
                           {"kernel_dropped", udp_ ? udp_->kernel_drops() : 0},
                           {"replied", counters_.replies_sent},
                           {"reply_failed", counters_.replies_failed},
                           {"reply_refused", counters_.replies_refused}};
    if (admission_) status["datagrams"]["reply_refused_by"] = admission_->reply_refused_status();
  }
  status["manifest"] = file_.manifest ? nlohmann::json(file_.manifest_file) : nlohmann::json(nullptr);
  if (admission_) {
    status["policy"] = admission_->policy_status();
    status["refused_by"] = admission_->refused_status();
    if (admission_->policy().proxy || proxy_.waiting() > 0) status["proxy"] = proxy_.status();
  }
  status["access"] = {{"exported", access_exported_}, {"warnings", access_warnings_}};
  if (const auto* settings = tls_settings(file_)) status["tls"] = tls_.status(*settings);
  status["egress"] = dialer_.status();
  return status;
}

std::optional<FirewallPort> Handler::firewall_port() const {
  // Exactly while it holds the port: a draining UDP handler still does (its
  // socket sends replies), a draining TCP one has closed its listener and
  // left the port to a successor.
  if (!tcp_ && !udp_) return std::nullopt;
  if (!file_.manifest_error.empty()) return std::nullopt;
  return firewall_port_for(file_.id.transport, file_.id.port, file_.manifest);
}

std::vector<policy::EgressRule> Handler::firewall_egress() const {
  if (!firewall_port() || !file_.manifest || !file_.manifest->connect) return {};
  return *file_.manifest->connect;
}

std::string Handler::reload_error() const {
  std::string joined;
  for (const std::string* part : {&code_error_, &manifest_error_, &tls_.error()}) {
    if (!part->empty()) joined += (joined.empty() ? "" : "; ") + *part;
  }
  return joined;
}

std::vector<std::string> Handler::tls_dirs() const {
  const auto* settings = tls_settings(file_);
  return settings ? tls_file_dirs(*settings) : std::vector<std::string>{};
}

std::vector<std::string> Handler::module_dirs() const {
  std::set<std::string> dirs;
  for (const auto* known : {&serving_modules_, &failed_modules_}) {
    for (const auto& module : *known) {
      auto slash = module.path.rfind('/');
      if (slash != std::string::npos) dirs.insert(module.path.substr(0, slash));
    }
  }
  return {dirs.begin(), dirs.end()};
}

}  // namespace supervisor
