#pragma once
// `portbrokerctl check [DIR]`: what the broker would refuse in a handlers
// folder, found without starting anything, like `nginx -t`. The config file,
// every file name, conflicting claims, manifests, and each handler's
// JavaScript (compiled and linked with its imports, without running any of
// it, by a worker started and confined exactly as the broker starts one).

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ctl {

struct CheckRequest {
  std::optional<std::string> handlers_dir;
  std::optional<std::string> config_path;  // default: /etc/portbroker/portbroker.json if it exists
};

// {"config": {"file", "error"}, "handlers_dir", "files": [{"file", "status"
// (ok|warning|error), "detail"}], "errors", "warnings"}
nlohmann::json check_handlers(const CheckRequest& request);
std::string render_check(const nlohmann::json& result, bool colour);

}  // namespace ctl
