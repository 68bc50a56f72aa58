// portbrokerd: the root supervisor. Owns every port, screens every connection
// and hands it to the handler's worker; see README.md.

#include <signal.h>
#include <uv.h>

#include "common/log.h"
#include "common/process.h"
#include "common/uv_handle.h"
#include "supervisor/broker.h"
#include "supervisor/log_writer.h"
#include "supervisor/options.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  supervisor::Options options;
  switch (supervisor::parse_options(argc, argv, options)) {
    case supervisor::ParseOutcome::run: break;
    case supervisor::ParseOutcome::exit_ok: return 0;
    case supervisor::ParseOutcome::exit_usage: return 2;
    case supervisor::ParseOutcome::exit_config: return 1;
  }
  if (auto level = common::log::parse_level(options.config.log_level)) common::log::set_min_level(*level);
  // From here every line goes through the writer's thread; it outlives the
  // loop, and writes whatever is queued when main returns.
  supervisor::LogWriter log_writer;
  common::raise_open_file_limit();
  common::announce_supervisor();

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code;
  {
    supervisor::Broker broker(&loop, std::move(options));
    exit_code = broker.run();
  }
  common::drain_and_close_loop(&loop);
  return exit_code;
}
