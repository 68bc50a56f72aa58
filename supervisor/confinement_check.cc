#include "supervisor/confinement_check.h"

#include <fstream>
#include <map>
#include <sstream>

namespace supervisor {
namespace {

std::map<std::string, std::string> read_status(pid_t pid) {
  std::map<std::string, std::string> fields;
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(file, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

// "Uid:	1000	1000	1000	1000": real, effective, saved, filesystem.
bool all_ids_are(const std::string& text, unsigned long id) {
  std::istringstream ids(text);
  int count = 0;
  for (unsigned long value; ids >> value; ++count) {
    if (value != id) return false;
  }
  return count == 4;
}

}  // namespace

std::string check_confinement(pid_t pid, const ExpectedConfinement& expected) {
  auto status = read_status(pid);
  if (status.empty()) return "cannot read /proc/" + std::to_string(pid) + "/status";
  if (!all_ids_are(status["Uid"], expected.uid)) {
    return "Uid is " + status["Uid"] + ", expected " + std::to_string(expected.uid);
  }
  if (!all_ids_are(status["Gid"], expected.gid)) {
    return "Gid is " + status["Gid"] + ", expected " + std::to_string(expected.gid);
  }
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
    if (status[set].find_first_not_of('0') != std::string::npos) return std::string(set) + " is " + status[set];
  }
  if (status["NoNewPrivs"] != "1") return "NoNewPrivs is " + status["NoNewPrivs"] + ", expected 1";
  if (expected.seccomp && status["Seccomp"] != "2") {
    return "Seccomp is " + status["Seccomp"] + ", expected 2 (filter mode)";
  }
  return {};
}

nlohmann::json sandbox_status(const ipc::WorkerSandbox& report) {
  if (!report.confined && report.namespaces.empty() && !report.seccomp) {
    return {{"confined", false}, {"reason", report.reason}, {"uid", report.uid}, {"gid", report.gid}};
  }
  return {
      {"confined", report.confined},
      {"uid", report.uid},
      {"gid", report.gid},
      {"namespaces", report.namespaces},
      {"minimal_root", report.minimal_root},
      {"seccomp", report.seccomp},
      {"no_new_privs", report.no_new_privs},
      {"capabilities", report.no_capabilities ? "none" : "unknown"},
      {"limits",
       {{"open_files", report.open_files},
        {"processes", report.processes},
        {"address_space_bytes", report.address_space_bytes}}},
      {"missing", report.missing},
      {"notes", report.notes},
  };
}

}  // namespace supervisor
