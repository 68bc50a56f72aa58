#include "ctl/status_table.h"

#include <algorithm>
#include <vector>

#include "ctl/table.h"

namespace ctl {
namespace {

// "full", "partial" (some layer missing), "OFF" (unconfined), "-" (no report yet).
std::string sandbox_summary(const nlohmann::json& sandbox) {
  if (!sandbox.is_object()) return "-";
  if (!sandbox.value("confined", false)) return "OFF";
  return sandbox.value("missing", nlohmann::json::array()).empty() ? "full" : "partial";
}

std::string sandbox_gaps(const nlohmann::json& sandbox) {
  if (!sandbox.value("confined", false)) return "everything: " + text(sandbox.value("reason", nlohmann::json()));
  std::string joined;
  for (const auto& missing : sandbox.value("missing", nlohmann::json::array())) {
    joined += (joined.empty() ? "" : "; ") + text(missing);
  }
  return joined;
}

// A handler behind PROXY protocol balancers: whom it trusts, and what its
// gate saw (refusals as "reason count", largest first).
Row proxy_row(const nlohmann::json& handler) {
  const auto& proxy = handler["proxy"];
  const auto& settings = handler.value("policy", nlohmann::json::object()).value("proxyProtocol", nlohmann::json());
  std::string trusted;
  bool direct = false;
  if (settings.is_object()) {
    for (const auto& block : settings.value("trusted", nlohmann::json::array())) {
      trusted += (trusted.empty() ? "" : ",") + text(block);
    }
    direct = settings.value("allowDirect", false);
  }
  std::vector<std::pair<uint64_t, std::string>> reasons;
  const auto refused_by = proxy.value("refused_by", nlohmann::json::object());
  for (const auto& [reason, count] : refused_by.items()) {
    if (count.is_number_unsigned() && count.get<uint64_t>() > 0) reasons.emplace_back(count.get<uint64_t>(), reason);
  }
  std::sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string refused;
  for (const auto& [count, reason] : reasons) refused += (refused.empty() ? "" : ", ") + reason + " " + std::to_string(count);
  return {text(handler.value("name", nlohmann::json())), trusted.empty() ? "-" : trusted, direct ? "allowed" : "refused",
          text(proxy.value("waiting", nlohmann::json())), text(proxy.value("headers", nlohmann::json())),
          text(proxy.value("health_checks", nlohmann::json())), refused.empty() ? "-" : refused};
}

}  // namespace

std::string render_status(const nlohmann::json& status, bool colour) {
  const auto& broker = status.at("broker");
  std::string out = "portbroker " + text(broker.value("version", nlohmann::json())) + "  pid " +
                    text(broker.value("pid", nlohmann::json())) + "  up " +
                    duration(broker.value("uptime_s", uint64_t{0})) + "  " + text(broker.value("state", nlohmann::json())) +
                    "\n";
  out += "handlers " + text(broker.value("handlers_dir", nlohmann::json())) + "\n";
  const auto& firewall = broker.value("firewall", nlohmann::json::object());
  out += std::string("firewall ") + (firewall.value("enabled", false) ? "on" : "off");
  if (!firewall.value("reason", nlohmann::json()).is_null()) out += " (" + text(firewall["reason"]) + ")";
  out += "\n";
  const auto& store = broker.value("store", nlohmann::json::object());
  out += "store pid " + text(store.value("pid", nlohmann::json())) + "  " + text(store.value("socket", nlohmann::json()));
  const auto& backend = store.value("backend", nlohmann::json::object());
  std::string kind = backend.value("kind", "embedded");
  if (kind != "embedded") {
    // "relay to redis://pb@10.0.0.5:6379  up since 2024-05-01T12:00:00Z (10.0.0.5:6379)"
    std::string where = kind == "sentinel" ? "sentinel master " + text(backend.value("master", nlohmann::json()))
                                           : text(backend.value("server", nlohmann::json()));
    std::string state = backend.value("state", "unknown");
    out += "  relay to " + where + "  " + (state == "up" ? "up" : state == "down" ? "DOWN" : state) + " since " +
           text(backend.value("since", nlohmann::json()));
    if (!backend.value("address", nlohmann::json()).is_null()) out += " (" + text(backend["address"]) + ")";
    if (state != "up" && !backend.value("last_error", nlohmann::json()).is_null()) {
      out += "\n  last error: " + text(backend["last_error"]);
    }
  }
  out += "\n";
  const auto& workers = broker.value("worker_user", nlohmann::json::object());
  out += "workers user " + text(workers.value("name", nlohmann::json())) + " (uid " +
         text(workers.value("uid", nlohmann::json())) + ", gid " + text(workers.value("gid", nlohmann::json())) + ")" +
         (workers.value("sandbox", true) ? "" : "  SANDBOX DISABLED in the configuration") + "\n";
  std::string capabilities;
  for (const auto& name : broker.value("capabilities", nlohmann::json::array())) {
    capabilities += (capabilities.empty() ? "" : ",") + text(name);
  }
  out += "capabilities " + (capabilities.empty() ? std::string("none") : capabilities) + "\n";
  if (broker.contains("latency_slice")) {
    const auto& slice = broker["latency_slice"];
    out += "time slice " +
           (slice.value("slice_us", nlohmann::json()).is_number()
                ? text(slice["slice_us"]) + " us (supervisor and store)"
                : "kernel default (" + text(slice.value("reason", nlohmann::json())) + ")") +
           "\n";
  }

  // With tenants, each handler says whose it is and which uid its worker has.
  const auto& tenants = status.value("tenants", nlohmann::json::array());
  bool with_tenants = !tenants.empty();
  if (with_tenants) {
    std::vector<Row> rows = {{"TENANT", "UID", "PORTS", "HANDLERS", "CONNECTIONS", "MEMORY", "STORE"}};
    for (const auto& tenant : tenants) {
      const auto& limits = tenant.value("limits", nlohmann::json::object());
      rows.push_back({text(tenant.value("name", nlohmann::json())), text(tenant.value("uid", nlohmann::json())),
                      text(tenant.value("ports", nlohmann::json())),
                      text(tenant.value("handlers", nlohmann::json())) + "/" + text(limits.value("handlers", nlohmann::json())),
                      text(tenant.value("connections", nlohmann::json())) + "/" +
                          text(limits.value("connections", nlohmann::json())),
                      text(limits.value("memory_mb", nlohmann::json())) + " MB",
                      text(limits.value("store_mb", nlohmann::json())) + " MB"});
    }
    out += "\n" + table(rows);
  }
  std::vector<Row> handlers = {
      {"HANDLER", "PROTO", "PORT", "STATE", "PID", "RESTARTS", "SANDBOX", "ACTIVE", "ACCEPTED", "REFUSED", "REASON"}};
  if (with_tenants) handlers[0].insert(handlers[0].begin(), {"TENANT", "UID"});
  std::vector<Row> gaps = {{"SANDBOX GAPS", "MISSING"}};
  std::vector<Row> proxies = {{"PROXY PROTOCOL", "TRUSTED", "DIRECT", "WAITING", "HEADERS", "HEALTH CHECKS", "REFUSED"}};
  for (const auto& handler : status.value("handlers", nlohmann::json::array())) {
    const auto& connections = handler.value("connections", nlohmann::json::object());
    const auto& worker = handler.value("worker", nlohmann::json::object());
    bool udp = handler.value("protocol", "") == "udp";
    std::string reason = text(handler.value("reason", nlohmann::json()));
    if (reason == "-" && !worker.value("last_exit", nlohmann::json()).is_null()) {
      reason = "last exit: " + text(worker["last_exit"]);
    }
    const auto& reload = handler.value("reload", nlohmann::json::object());
    if (!reload.value("error", nlohmann::json()).is_null()) {
      std::string error = "reload failed: " + text(reload["error"]);
      reason = reason == "-" ? error : error + "; " + reason;
    }
    std::string sandbox = sandbox_summary(worker.value("sandbox", nlohmann::json()));
    if (sandbox == "partial" || sandbox == "OFF") {
      gaps.push_back({text(handler.value("name", nlohmann::json())), sandbox_gaps(worker["sandbox"])});
    }
    if (udp && handler.contains("datagrams")) {
      const auto& datagrams = handler["datagrams"];
      std::string traffic = "datagrams " + text(datagrams.value("received", nlohmann::json())) + " in, " +
                            text(datagrams.value("replied", nlohmann::json())) + " replies";
      reason = reason == "-" ? traffic : reason + "; " + traffic;
    }
    Row row = {text(handler.value("name", nlohmann::json())), text(handler.value("protocol", nlohmann::json())),
               text(handler.value("port", nlohmann::json())), text(handler.value("state", nlohmann::json())),
               text(worker.value("pid", nlohmann::json())), text(worker.value("restarts", nlohmann::json())),
               sandbox, udp ? "-" : text(connections.value("active", nlohmann::json())),
               udp ? "-" : text(connections.value("accepted", nlohmann::json())),
               udp ? "-" : text(connections.value("refused", nlohmann::json())), reason};
    if (with_tenants) row.insert(row.begin(), {text(handler.value("tenant", nlohmann::json())), text(worker.value("uid", nlohmann::json()))});
    handlers.push_back(std::move(row));
    if (handler.contains("proxy")) proxies.push_back(proxy_row(handler));
  }
  out += "\n";
  out += handlers.size() > 1 ? table(handlers, {colour, with_tenants ? 5 : 3}) : "no handlers\n";
  if (gaps.size() > 1) out += "\n" + table(gaps);
  if (proxies.size() > 1) out += "\n" + table(proxies);
  const auto& ignored = status.value("ignored", nlohmann::json::array());
  if (!ignored.empty()) {
    std::vector<Row> rows = {{"IGNORED FILE", "REASON"}};
    for (const auto& file : ignored) rows.push_back({text(file.value("file", nlohmann::json())), text(file.value("reason", nlohmann::json()))});
    out += "\n" + table(rows);
  }
  return out;
}

}  // namespace ctl
