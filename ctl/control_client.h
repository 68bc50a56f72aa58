#pragma once
// portbrokerctl's side of `<run-dir>/control.sock`: one JSON request, one
// JSON response.

#include <string>

#include <nlohmann/json.hpp>

namespace ctl {

// False with `error` naming the socket when the broker cannot be reached or
// answers something that is not JSON.
bool request(const std::string& socket_path, const nlohmann::json& message, nlohmann::json& response,
             std::string& error);

}  // namespace ctl
