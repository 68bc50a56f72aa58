#pragma once
// `portbrokerctl status` for people: the broker line, then aligned tables of
// handlers and ignored files.

#include <string>

#include <nlohmann/json.hpp>

namespace ctl {

std::string render_status(const nlohmann::json& status, bool colour = false);

}  // namespace ctl
