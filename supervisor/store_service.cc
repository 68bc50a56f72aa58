#include "supervisor/store_service.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/process.h"

namespace supervisor {
namespace {

constexpr uint64_t kStopGraceMs = 2000;
constexpr uint64_t kMaxRestartDelayMs = 30000;
// A store that ran this long counts as healthy again: the back-off restarts.
constexpr uint64_t kStableRunMs = 60000;

bool make_address(const std::string& path, sockaddr_un& address, std::string& error) {
  if (path.size() >= sizeof address.sun_path) {
    error = "socket path too long: " + path;
    return false;
  }
  address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

StoreService::StoreService(uv_loop_t* loop, std::string run_dir, std::string log_level,
                           std::vector<std::string> sandbox_args, bool namespaces, std::function<void()> on_lost)
    : loop_(loop),
      run_dir_(std::move(run_dir)),
      socket_path_(run_dir_ + "/store.sock"),
      log_level_(std::move(log_level)),
      sandbox_args_(std::move(sandbox_args)),
      namespaces_(namespaces),
      probe_(loop, [this](common::UniqueFd& out, std::string& error) { return connect(out, error); }),
      on_lost_(std::move(on_lost)) {}

bool StoreService::start(std::string& error) {
  sockaddr_un address{};
  if (!make_address(socket_path_, address, error)) return false;
  listen_fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listen_fd_) {
    error = "cannot create the store socket: " + common::errno_text(errno);
    return false;
  }
  unlink(socket_path_.c_str());
  // Owner-only from the moment it exists: no window where others can connect.
  mode_t old_mask = umask(0177);
  int rc = bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  umask(old_mask);
  if (rc != 0 || listen(listen_fd_.get(), SOMAXCONN) != 0) {
    error = "cannot listen on " + socket_path_ + ": " + common::errno_text(errno);
    return false;
  }
  return spawn(error);
}

bool StoreService::spawn(std::string& error) {
  std::string executable = common::find_helper_executable("portbroker-store");
  std::vector<std::string> args = {"--listen-fd", "3", "--log-level", log_level_};
  args.insert(args.end(), sandbox_args_.begin(), sandbox_args_.end());
  int rc = child_.spawn(loop_, SpawnOptions{executable, args, {listen_fd_.get()}, "store", namespaces_, false, {}},
                        [this](int64_t status, int term_signal) { on_exit(status, term_signal); });
  if (rc != 0) {
    error = "cannot start " + executable + ": " + common::errno_text(-rc);
    return false;
  }
  started_ms_ = uv_now(loop_);
  common::log::info("store-started").kv("pid", child_.pid()).kv("socket", socket_path_);
  probe_.start();
  return true;
}

void StoreService::schedule_restart() {
  uint64_t delay = std::min<uint64_t>(kMaxRestartDelayMs, 250ull << std::min(consecutive_failures_, 7u));
  common::log::error("store-exited").kv("reason", last_exit_).kv("restart_in_ms", delay);
  timer_.start(loop_, delay, [this] {
    if (stopping_) return;
    std::string error;
    if (!spawn(error)) {
      common::log::error("store-restart-failed").kv("reason", error);
      last_exit_ = error;
      ++consecutive_failures_;
      schedule_restart();
    }
  });
}

void StoreService::on_exit(int64_t status, int term_signal) {
  last_exit_ = describe_exit(status, term_signal);
  if (stopping_) {
    timer_.cancel();
    unlink(socket_path_.c_str());
    if (on_stopped_) std::exchange(on_stopped_, nullptr)();
    return;
  }
  // Connections already handed out are gone with it; new ones work again once
  // it is back (the listening socket queues them meanwhile).
  ++restarts_;
  consecutive_failures_ = uv_now(loop_) - started_ms_ >= kStableRunMs ? 0 : consecutive_failures_ + 1;
  schedule_restart();
  if (on_lost_) on_lost_();
}

bool StoreService::connect(common::UniqueFd& out, std::string& error) {
  sockaddr_un address{};
  if (!make_address(socket_path_, address, error)) return false;
  // Non-blocking: a full listen queue (the store stuck) must not stall the
  // supervisor; the connection then fails and the handler reports it.
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    error = "cannot connect to the store at " + socket_path_ + ": " + common::errno_text(errno);
    return false;
  }
  common::set_nonblocking(fd.get(), false);
  out = std::move(fd);
  return true;
}

std::optional<uint64_t> StoreService::key_count() { return probe_.key_count(); }

void StoreService::stop(std::function<void()> done) {
  stopping_ = true;
  probe_.stop();
  listen_fd_.reset();
  if (!child_.running()) {
    timer_.cancel();
    unlink(socket_path_.c_str());
    done();
    return;
  }
  on_stopped_ = std::move(done);
  child_.signal(SIGTERM);
  timer_.start(loop_, kStopGraceMs, [this] { child_.signal(SIGKILL); });
}

}  // namespace supervisor
