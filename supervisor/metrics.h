#pragma once
// Prometheus text exposition (format 0.0.4) of the broker's status: what
// `portbrokerctl metrics` prints and the metrics listener serves. Built from
// the same status document `portbrokerctl status --json` shows, so the two
// never disagree.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace supervisor {

// `store_keys`: the shared store's key count, when the store answered.
std::string render_metrics(const nlohmann::json& status, std::optional<uint64_t> store_keys);

}  // namespace supervisor
