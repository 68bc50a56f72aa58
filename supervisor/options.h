#pragma once
// portbrokerd's command line, merged over the config file over the defaults.

#include <string>

#include "policy/broker_config.h"

namespace supervisor {

struct Options {
  policy::BrokerConfig config;
  std::string config_path;  // empty when no file was read
  std::string firewall_reason;  // why the firewall is off, when it is
};

enum class ParseOutcome { run, exit_ok, exit_usage, exit_config };

// Reads and validates a config file. On failure, `field` is the JSON path of
// the invalid field (empty when the file itself could not be read).
bool load_config_file(const std::string& path, policy::BrokerConfig& config, std::string& field, std::string& error);

// Prints help/version/errors itself; on `run`, `options` is complete.
ParseOutcome parse_options(int argc, char** argv, Options& options);

}  // namespace supervisor
