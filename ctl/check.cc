#include "ctl/check.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "common/one_shot_timer.h"
#include "common/process.h"
#include "common/unique_fd.h"
#include "ctl/table.h"
#include "policy/claim_table.h"
#include "supervisor/handler_scan.h"
#include "supervisor/confinement_check.h"
#include "supervisor/options.h"
#include "supervisor/tenant/tenant_identity.h"
#include "supervisor/worker_identity.h"
#include "supervisor/worker_process.h"

namespace ctl {
namespace {

constexpr uint64_t kSyntaxCheckTimeoutMs = 30000;

// Compiles and links one handler and its imports, none of it run, in a
// worker started and confined exactly as the broker starts one (namespaces,
// the minimal root, the worker user, seccomp): the files are whoever wrote
// the folder's, and `check` often runs as root. Empty if it would load.
std::string check_javascript(const policy::BrokerConfig& config, const std::string& dir,
                             const supervisor::WorkerIdentity& identity, const supervisor::HandlerFile& file,
                             nlohmann::json& sandbox) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::string problem;
  std::string exit;
  bool answered = false;
  pid_t worker_pid = 0;
  std::function<void()> worker_kill;
  std::function<void()> worker_expect_exit;
  {
    supervisor::WorkerProcess worker(
        &loop, file.id.name,
        supervisor::WorkerProcess::Events{
            .ready =
                [&](const ipc::WorkerReady&) {
                  answered = true;
                  worker_expect_exit();
                },
            .failed =
                [&](const ipc::WorkerFailed& failed) {
                  answered = true;
                  problem = failed.reason;
                },
            .replies = nullptr,
            .exited =
                [&](const std::string& description) {
                  exit = description;
                  uv_stop(&loop);
                },
            .drained = nullptr,
            .handoff_failed = nullptr,
            .sandbox =
                [&](const ipc::WorkerSandbox& report) {
                  sandbox = supervisor::sandbox_status(report);
                  // As the broker does: what the kernel shows outranks the report.
                  std::string mismatch = supervisor::check_confinement(
                      worker_pid, supervisor::ExpectedConfinement{identity.uid, identity.gid, config.worker.sandbox});
                  if (!mismatch.empty()) {
                    problem = "the check's worker is not confined as required: " + mismatch;
                    worker_kill();
                  }
                },
            .connection_closed = nullptr,
            .tls_stats = nullptr,
            .tls_certificate_request = nullptr,
            .store_reconnect = nullptr,
            .modules_loaded = nullptr,
            .egress_connect = nullptr,
            .egress_lookup = nullptr,
        });
    auto init = supervisor::make_worker_init(config, dir, file, identity, "");
    init.log_level = "error";
    init.check_only = true;
    init.http_client = false;  // nothing runs, nothing fetches
    // Stand-ins for the store connections every worker is given.
    int store[2][2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, store[0]) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, store[1]) != 0) {
      return "cannot run the JavaScript check: " + common::errno_text(errno);
    }
    common::UniqueFd ours[] = {common::UniqueFd(store[0][0]), common::UniqueFd(store[1][0])};
    std::string error;
    worker_kill = [&worker] { worker.kill(); };
    worker_expect_exit = [&worker] { worker.expect_exit(); };
    if (!worker.start(common::find_helper_executable("portbroker-worker"), init, common::UniqueFd(store[0][1]),
                      common::UniqueFd(store[1][1]), error)) {
      problem = "cannot run the JavaScript check: " + error;
    } else {
      worker_pid = worker.pid();
      common::OneShotTimer deadline;
      deadline.start(&loop, kSyntaxCheckTimeoutMs, [&] {
        exit = "did not finish within " + std::to_string(kSyntaxCheckTimeoutMs / 1000) + " s";
        worker.kill();
      });
      uv_run(&loop, UV_RUN_DEFAULT);
      if (!answered && problem.empty()) problem = "the JavaScript check failed: the worker " + exit;
      if (answered && sandbox.is_null()) problem = "the check's worker did not report its confinement";
      worker.kill();
    }
  }
  common::drain_and_close_loop(&loop);
  return problem;
}

// What the broker checks of each tenant against this host before it starts
// one (its folder, its user, uid collisions), so that `check --config`
// reports the errors portbrokerd would refuse to start with. The uids it
// would allocate are not recorded.
bool check_tenants_here(const policy::BrokerConfig& config, std::string& error) {
  if (config.tenants.empty()) return true;
  supervisor::WorkerIdentity own;
  if (!supervisor::resolve_worker_identity(config.worker, own, error)) return false;
  supervisor::tenant::UidRegistry registry(config.state_dir + "/tenant-uids.json");
  if (geteuid() == 0 && !registry.load(error)) return false;
  std::set<uid_t> uids_in_use = {own.uid};
  std::map<std::string, supervisor::WorkerIdentity> identities;
  return supervisor::tenant::resolve_tenant_identities(config.tenants, own, registry, uids_in_use, identities, error);
}

}  // namespace

nlohmann::json check_handlers(const CheckRequest& request) {
  nlohmann::json result = {{"files", nlohmann::json::array()}, {"errors", 0}, {"warnings", 0}};
  auto report = [&](const std::string& file, const std::string& status, const std::string& detail) {
    result["files"].push_back({{"file", file}, {"status", status}, {"detail", detail}});
    if (status == "error") result["errors"] = result["errors"].get<int>() + 1;
    if (status == "warning") result["warnings"] = result["warnings"].get<int>() + 1;
  };

  policy::BrokerConfig config;
  std::string config_path = request.config_path.value_or(std::string(policy::kDefaultConfigPath));
  struct stat info {};
  result["config"] = nullptr;
  if (request.config_path || stat(config_path.c_str(), &info) == 0) {
    std::string field;
    std::string error;
    bool ok = supervisor::load_config_file(config_path, config, field, error) && check_tenants_here(config, error);
    result["config"] = {{"file", config_path}, {"error", ok ? nlohmann::json(nullptr) : nlohmann::json(error)}};
    if (!ok) result["errors"] = result["errors"].get<int>() + 1;
  }

  std::string dir = request.handlers_dir ? std::filesystem::absolute(*request.handlers_dir).lexically_normal().string()
                                         : config.handlers_dir;
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  result["handlers_dir"] = dir;
  supervisor::ScanResult scan;
  std::string error;
  if (!supervisor::scan_handlers_dir(dir, config.tls, scan, error)) {
    report(dir, "error", error);
    return result;
  }
  for (const auto& ignored : scan.ignored) {
    // A manifest alone harms nothing; a file that meant to be a handler and
    // is not one is an error.
    bool orphan = ignored.reason.rfind("manifest without a handler", 0) == 0;
    report(ignored.file, orphan ? "warning" : "error", ignored.reason);
  }
  supervisor::WorkerIdentity identity;
  std::string identity_error;
  bool have_identity = supervisor::resolve_worker_identity(config.worker, identity, identity_error);
  policy::ClaimTable claims;
  for (const auto& file : scan.entry_points) {
    std::string protocol(policy::transport_name(file.id.transport));
    auto outcome = claims.claim({file.id.transport, file.id.port}, {file.mtime_ns, file.file});
    if (!outcome.granted) {
      report(file.file, "error", protocol + " port " + std::to_string(file.id.port) + " is already claimed by " +
                                     outcome.holder + " (the older file keeps it)");
      continue;
    }
    if (!file.manifest_error.empty()) {
      report(file.file, "error", "invalid manifest " + file.manifest_error + " (the port would stay closed)");
      continue;
    }
    nlohmann::json sandbox;
    std::string problem = have_identity ? check_javascript(config, dir, identity, file, sandbox) : identity_error;
    if (!sandbox.is_null()) result["sandbox"] = sandbox;
    if (!problem.empty()) {
      report(file.file, "error", problem);
      continue;
    }
    std::string detail = protocol + " " + std::to_string(file.id.port);
    if (file.manifest) detail += ", manifest " + file.manifest_file;
    report(file.file, "ok", detail);
  }
  return result;
}

std::string render_check(const nlohmann::json& result, bool colour) {
  std::string out;
  const auto& config = result["config"];
  if (config.is_object()) {
    out += "config " + text(config["file"]) + ": " + (config["error"].is_null() ? "ok" : text(config["error"])) + "\n";
  }
  out += "handlers " + text(result["handlers_dir"]) + "\n";
  if (const auto& sandbox = result.value("sandbox", nlohmann::json()); sandbox.is_object()) {
    // Where the handlers' JavaScript was compiled: in a worker's own sandbox.
    bool confined = sandbox.value("confined", false);
    out += "javascript checked in a worker sandbox: " +
           (confined ? "uid " + text(sandbox["uid"]) + ", seccomp, " +
                           (sandbox.value("minimal_root", false) ? "minimal root" : "no minimal root")
                     : std::string("OFF (") + text(sandbox.value("reason", nlohmann::json("unconfined"))) + ")") +
           "\n";
  }
  out += "\n";
  std::vector<Row> rows = {{"STATUS", "FILE", "DETAIL"}};
  for (const auto& file : result["files"]) rows.push_back({text(file["status"]), text(file["file"]), text(file["detail"])});
  out += rows.size() > 1 ? table(rows, {colour, 0}) : "no handler files\n";
  int errors = result["errors"].get<int>();
  int warnings = result["warnings"].get<int>();
  out += "\n" + std::to_string(errors) + (errors == 1 ? " error, " : " errors, ") + std::to_string(warnings) +
         (warnings == 1 ? " warning" : " warnings") + (errors == 0 ? ": ok\n" : "\n");
  return out;
}

}  // namespace ctl
