// portbrokerctl: inspect and reload a running portbrokerd through its control
// socket, and check a handlers folder without one.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ctl/check.h"
#include "ctl/control_client.h"
#include "ctl/status_table.h"
#include "ctl/table.h"

namespace {

constexpr const char* kUsage =
    "usage: portbrokerctl [--run-dir DIR] status [--tenant NAME] [--json]\n"
    "       portbrokerctl [--run-dir DIR] conns [HANDLER] [--tenant NAME] [--json]\n"
    "       portbrokerctl [--run-dir DIR] metrics [--tenant NAME]\n"
    "       portbrokerctl [--run-dir DIR] reload [--tenant NAME]\n"
    "       portbrokerctl [--run-dir DIR] ca\n"
    "       portbrokerctl check [DIR] [--config FILE] [--json]\n"
    "\n"
    "  status         handlers, their state, workers and connection counts\n"
    "  conns          live TCP connections: peer, age, idle, bytes in and out\n"
    "  metrics        Prometheus text exposition\n"
    "  reload         read the handlers folder again now, retry failed handlers (as SIGHUP)\n"
    "  ca             the local CA's certificate (PEM) that on-demand TLS certificates chain to\n"
    "  check          check a handlers folder (default: the config's) without opening anything;\n"
    "                 exit status 1 if anything would be refused\n"
    "  --run-dir DIR  the broker's run directory (default /run/portbroker)\n"
    "  --tenant NAME  one tenant's handlers only (root); a tenant's own user always sees only its own\n"
    "  --config FILE  the config file check reads (default /etc/portbroker/portbroker.json if present)\n"
    "  --json         machine-readable output\n";

struct Arguments {
  std::string run_dir = "/run/portbroker";
  std::string command;
  std::optional<std::string> operand;  // HANDLER for conns, DIR for check
  std::optional<std::string> config;
  std::optional<std::string> tenant;  // status, conns, metrics, reload: one tenant's (root only)
  bool json = false;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "portbrokerctl: %s\n%s", message.c_str(), kUsage);
  return 2;
}

void print_json(const nlohmann::json& value) {
  std::puts(value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

std::string render_connections(const nlohmann::json& response, bool colour) {
  std::vector<ctl::Row> rows = {{"TENANT", "HANDLER", "PEER", "AGE", "IDLE", "IN", "OUT", "WORKER"}};
  auto seconds = [](const nlohmann::json& ms) { return ms.is_number() ? ctl::duration(ms.get<uint64_t>() / 1000) : "-"; };
  auto bytes = [](const nlohmann::json& n) { return n.is_number() ? ctl::byte_count(n.get<uint64_t>()) : "-"; };
  // Through a PROXY protocol balancer, PEER is the client it declared and VIA the balancer.
  bool proxied = false;
  for (const auto& c : response["connections"]) proxied = proxied || c.value("via", nlohmann::json()).is_string();
  if (proxied) rows[0].insert(rows[0].begin() + 3, "VIA");
  for (const auto& c : response["connections"]) {
    rows.push_back({ctl::text(c.value("tenant", nlohmann::json())), ctl::text(c["handler"]), ctl::text(c["peer"]), seconds(c["age_ms"]), seconds(c["idle_ms"]),
                    bytes(c["bytes_received"]), bytes(c["bytes_sent"]), ctl::text(c["worker_pid"])});
    if (proxied) rows.back().insert(rows.back().begin() + 3, ctl::text(c.value("via", nlohmann::json())));
  }
  return rows.size() > 1 ? ctl::table(rows, {colour, std::nullopt}) : "no connections\n";
}

int run_check(const Arguments& arguments) {
  auto result = ctl::check_handlers({arguments.operand, arguments.config});
  if (arguments.json) {
    print_json(result);
  } else {
    std::fputs(ctl::render_check(result, ctl::stdout_wants_colour()).c_str(), stdout);
  }
  return result["errors"].get<int>() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--run-dir" || arg == "--config" || arg == "--tenant") {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      (arg == "--run-dir" ? arguments.run_dir : arg == "--config" ? arguments.config.emplace() : arguments.tenant.emplace()) =
          argv[++i];
    } else if (arg == "--json") {
      arguments.json = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage_error("unexpected argument '" + arg + "'");
    } else if (arguments.command.empty()) {
      arguments.command = arg;
    } else if (!arguments.operand && (arguments.command == "conns" || arguments.command == "check")) {
      arguments.operand = arg;
    } else {
      return usage_error("unexpected argument '" + arg + "'");
    }
  }
  const std::vector<std::string> commands = {"status", "reload", "conns", "metrics", "check", "ca"};
  if (arguments.command.empty()) return usage_error("a command is required");
  if (std::find(commands.begin(), commands.end(), arguments.command) == commands.end()) {
    return usage_error("unknown command '" + arguments.command + "'");
  }
  if (arguments.config && arguments.command != "check") return usage_error("--config goes with check");
  if (arguments.command == "check") return run_check(arguments);

  nlohmann::json request = {{"command", arguments.command == "conns" ? "connections" : arguments.command}};
  if (arguments.operand) request["handler"] = *arguments.operand;
  if (arguments.tenant) {
    if (arguments.command == "ca" || arguments.command == "check") return usage_error("--tenant does not go with " + arguments.command);
    request["tenant"] = *arguments.tenant;
  }
  nlohmann::json response;
  std::string error;
  if (!ctl::request(arguments.run_dir + "/control.sock", request, response, error)) {
    std::fprintf(stderr, "portbrokerctl: %s\n", error.c_str());
    return 1;
  }
  if (response.is_object() && response.contains("error")) {
    std::fprintf(stderr, "portbrokerctl: %s\n", ctl::text(response["error"]).c_str());
    return 1;
  }
  bool colour = ctl::stdout_wants_colour();
  if (arguments.command == "metrics") {
    std::fputs(ctl::text(response["text"]).c_str(), stdout);
  } else if (arguments.command == "ca" && !arguments.json) {
    std::fputs(ctl::text(response["certificate"]).c_str(), stdout);
  } else if (arguments.json) {
    print_json(response);
  } else if (arguments.command == "reload") {
    std::printf("reloaded: %s handlers\n", response.value("handlers", nlohmann::json()).dump().c_str());
  } else if (arguments.command == "conns") {
    std::fputs(render_connections(response, colour).c_str(), stdout);
  } else {
    std::fputs(ctl::render_status(response, colour).c_str(), stdout);
  }
  return 0;
}
