#include "ctl/check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "common/process.h"
#include "common/unique_fd.h"
#include "ctl/table.h"
#include "policy/claim_table.h"
#include "supervisor/handler_scan.h"
#include "supervisor/options.h"

namespace ctl {
namespace {

constexpr int kSyntaxCheckTimeoutMs = 30000;

// Runs `portbroker-worker --check` on one handler; empty if it would load.
std::string check_javascript(const std::string& dir, const supervisor::HandlerFile& file) {
  std::string worker = common::find_helper_executable("portbroker-worker");
  std::string transport(policy::transport_name(file.id.transport));
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return "cannot run the JavaScript check: " + common::errno_text(errno);
  common::UniqueFd read_end(pipe_fds[0]);
  common::UniqueFd write_end(pipe_fds[1]);
  pid_t pid = fork();
  if (pid < 0) return "cannot run the JavaScript check: " + common::errno_text(errno);
  if (pid == 0) {
    dup2(write_end.get(), STDOUT_FILENO);
    const char* args[] = {worker.c_str(), "--check", dir.c_str(), file.file.c_str(), transport.c_str(), nullptr};
    execv(worker.c_str(), const_cast<char* const*>(args));
    _exit(127);
  }
  write_end.reset();
  std::string output;
  bool timed_out = false;
  for (;;) {
    pollfd readable{read_end.get(), POLLIN, 0};
    int ready = poll(&readable, 1, kSyntaxCheckTimeoutMs);
    if (ready == 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (ready < 0 && errno == EINTR) continue;
    char buffer[4096];
    ssize_t n = ready < 0 ? -1 : read(read_end.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return "the JavaScript check did not finish within " + std::to_string(kSyntaxCheckTimeoutMs / 1000) + " s";
  auto result = nlohmann::json::parse(output, nullptr, false);
  if (!result.is_object() || !result.contains("ok")) {
    return "the JavaScript check failed (" + worker + " exited with status " +
           std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + ")";
  }
  return result["ok"].get<bool>() ? "" : text(result["error"]);
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
    bool ok = supervisor::load_config_file(config_path, config, field, error);
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
    std::string problem = check_javascript(dir, file);
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
  out += "handlers " + text(result["handlers_dir"]) + "\n\n";
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
