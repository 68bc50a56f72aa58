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

// Prints help/version/errors itself; on `run`, `options` is complete.
ParseOutcome parse_options(int argc, char** argv, Options& options);

}  // namespace supervisor
