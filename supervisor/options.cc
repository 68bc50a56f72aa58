#include "supervisor/options.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/bounded_file.h"
#include "common/log.h"
#include "policy/json_fields.h"

namespace supervisor {
namespace {

constexpr const char* kUsage =
    "usage: portbrokerd [--config FILE] [--handlers DIR] [--run-dir DIR] [--no-firewall] [--log-level LEVEL]\n"
    "\n"
    "Serves every <name>.tcp.<port>.port.js / <name>.udp.<port>.port.js in the handlers folder.\n"
    "\n"
    "  --config FILE      configuration file (default /etc/portbroker/portbroker.json, if present)\n"
    "  --handlers DIR     handlers folder (default /etc/portbroker/handlers)\n"
    "  --run-dir DIR      where control.sock and store.sock live (default /run/portbroker)\n"
    "  --no-firewall      do not program nftables; screen in userspace only\n"
    "  --log-level LEVEL  debug, info, warn or error (default info)\n"
    "  --version          print the version\n";

std::string absolute(const std::string& path) {
  std::string normal = std::filesystem::absolute(path).lexically_normal().string();
  // Compared with other paths later (key directories): no trailing slash.
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

}  // namespace

bool load_config_file(const std::string& path, policy::BrokerConfig& config, std::string& field, std::string& error) {
  std::string text;
  field.clear();
  // Non-blocking, a regular file, bounded: a FIFO named as the config
  // cannot hang the broker (or `portbrokerctl check`).
  if (!common::read_regular_file(path, policy::kMaxConfigBytes, text, error)) return false;
  try {
    config = policy::parse_broker_config(text);
  } catch (const policy::JsonFieldError& e) {
    field = e.path();
    error = e.what();
    return false;
  }
  return true;
}

ParseOutcome parse_options(int argc, char** argv, Options& options) {
  std::optional<std::string> config_path;
  std::optional<std::string> handlers_dir;
  std::optional<std::string> run_dir;
  std::optional<std::string> log_level;
  bool no_firewall = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::optional<std::string>& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "portbrokerd: %s needs a value\n%s", arg.c_str(), kUsage);
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return ParseOutcome::exit_ok;
    } else if (arg == "--version") {
      std::puts("portbrokerd 0.1.0");
      return ParseOutcome::exit_ok;
    } else if (arg == "--config") {
      if (!value(config_path)) return ParseOutcome::exit_usage;
    } else if (arg == "--handlers") {
      if (!value(handlers_dir)) return ParseOutcome::exit_usage;
    } else if (arg == "--run-dir") {
      if (!value(run_dir)) return ParseOutcome::exit_usage;
    } else if (arg == "--log-level") {
      if (!value(log_level)) return ParseOutcome::exit_usage;
    } else if (arg == "--no-firewall") {
      no_firewall = true;
    } else {
      std::fprintf(stderr, "portbrokerd: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return ParseOutcome::exit_usage;
    }
  }

  // The default config file is optional; one named on the command line is not.
  std::string path = config_path.value_or(std::string(policy::kDefaultConfigPath));
  struct stat info {};
  if (config_path || stat(path.c_str(), &info) == 0) {
    std::string field;
    std::string error;
    if (!load_config_file(path, options.config, field, error)) {
      auto line = common::log::error("config-invalid");
      line.kv("file", path);
      if (!field.empty()) line.kv("field", field);
      line.kv("reason", error);
      return ParseOutcome::exit_config;
    }
    options.config_path = path;
  }
  if (handlers_dir) options.config.handlers_dir = absolute(*handlers_dir);
  if (run_dir) options.config.run_dir = absolute(*run_dir);
  try {
    policy::finish_config(options.config);
  } catch (const policy::JsonFieldError& e) {
    common::log::error("config-invalid").kv("file", path).kv("field", e.path()).kv("reason", std::string(e.what()) + " (with --handlers)");
    return ParseOutcome::exit_config;
  }
  if (log_level) {
    if (!common::log::parse_level(*log_level)) {
      std::fprintf(stderr, "portbrokerd: --log-level must be debug, info, warn or error\n");
      return ParseOutcome::exit_usage;
    }
    options.config.log_level = *log_level;
  }
  if (no_firewall) {
    options.config.firewall_enabled = false;
    options.firewall_reason = "disabled by --no-firewall";
  } else if (!options.config.firewall_enabled) {
    options.firewall_reason = "disabled in " + options.config_path;
  }
  return ParseOutcome::run;
}

}  // namespace supervisor
