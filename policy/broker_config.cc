#include "policy/broker_config.h"

#include "common/log.h"
#include "policy/json_fields.h"

namespace policy {
namespace {

constexpr uint64_t kMaxTimeoutMs = 24ull * 3600 * 1000;

std::string read_absolute_path(const nlohmann::json& value, std::string_view path) {
  std::string text = read_string(value, path);
  if (text.empty() || text.front() != '/') throw JsonFieldError(std::string(path), "must be an absolute path");
  return text;
}

}  // namespace

BrokerConfig parse_broker_config(std::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    throw JsonFieldError("/", "file is larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  }
  nlohmann::json document = parse_json_object(text);
  reject_unknown_fields(document, "/",
                        {"handlers_dir", "run_dir", "state_dir", "log_level", "firewall", "timeouts"});
  BrokerConfig config;
  if (document.contains("handlers_dir")) config.handlers_dir = read_absolute_path(document["handlers_dir"], "/handlers_dir");
  if (document.contains("run_dir")) config.run_dir = read_absolute_path(document["run_dir"], "/run_dir");
  if (document.contains("state_dir")) config.state_dir = read_absolute_path(document["state_dir"], "/state_dir");
  if (document.contains("log_level")) {
    config.log_level = read_string(document["log_level"], "/log_level");
    if (!common::log::parse_level(config.log_level)) {
      throw JsonFieldError("/log_level", "must be one of debug, info, warn, error");
    }
  }
  if (document.contains("firewall")) {
    const auto& firewall = document["firewall"];
    require_object(firewall, "/firewall");
    reject_unknown_fields(firewall, "/firewall", {"enabled"});
    if (firewall.contains("enabled")) config.firewall_enabled = read_bool(firewall["enabled"], "/firewall/enabled");
  }
  if (document.contains("timeouts")) {
    const auto& timeouts = document["timeouts"];
    require_object(timeouts, "/timeouts");
    reject_unknown_fields(timeouts, "/timeouts", {"open_ms", "close_ms", "drain_ms"});
    auto read_timeout = [&](std::string_view key, uint32_t& field) {
      if (timeouts.contains(key)) {
        field = static_cast<uint32_t>(read_integer(timeouts[std::string(key)], child_path("/timeouts", key), 1, kMaxTimeoutMs));
      }
    };
    read_timeout("open_ms", config.open_timeout_ms);
    read_timeout("close_ms", config.close_timeout_ms);
    read_timeout("drain_ms", config.drain_timeout_ms);
  }
  return config;
}

}  // namespace policy
