// portbrokerctl: inspect a running portbrokerd through its control socket.

#include <cstdio>
#include <cstring>
#include <string>

#include "ctl/control_client.h"
#include "ctl/status_table.h"

namespace {

constexpr const char* kUsage =
    "usage: portbrokerctl [--run-dir DIR] status [--json]\n"
    "       portbrokerctl [--run-dir DIR] reload\n"
    "\n"
    "  --run-dir DIR  the broker's run directory (default /run/portbroker)\n"
    "  status         handlers, their state, workers and connection counts\n"
    "  reload         read the handlers folder again now (as SIGHUP does)\n"
    "  --json         machine-readable output\n";

}  // namespace

int main(int argc, char** argv) {
  std::string run_dir = "/run/portbroker";
  std::string command;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--run-dir" && i + 1 < argc) {
      run_dir = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else if (command.empty() && arg[0] != '-') {
      command = arg;
    } else {
      std::fprintf(stderr, "portbrokerctl: unexpected argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (command != "status" && command != "reload") {
    std::fprintf(stderr, "portbrokerctl: %s\n%s",
                 command.empty() ? "a command is required" : ("unknown command '" + command + "'").c_str(), kUsage);
    return 2;
  }
  nlohmann::json response;
  std::string error;
  if (!ctl::request(run_dir + "/control.sock", {{"command", command}}, response, error)) {
    std::fprintf(stderr, "portbrokerctl: %s\n", error.c_str());
    return 1;
  }
  if (response.is_object() && response.contains("error")) {
    std::fprintf(stderr, "portbrokerctl: %s\n", response["error"].dump().c_str());
    return 1;
  }
  if (json) {
    std::puts(response.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (command == "reload") {
    std::printf("reloaded: %s handlers\n", response.value("handlers", nlohmann::json()).dump().c_str());
  } else {
    std::fputs(ctl::render_status(response).c_str(), stdout);
  }
  return 0;
}
