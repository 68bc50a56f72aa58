#include "supervisor/store/store_service.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <span>

#include "common/log.h"
#include "common/process.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "policy/tenant_config.h"

namespace supervisor {
namespace {

constexpr uint64_t kStopGraceMs = 2000;
constexpr uint64_t kMaxRestartDelayMs = 30000;
// A store that ran this long counts as healthy again: the back-off restarts.
constexpr uint64_t kStableRunMs = 60000;
constexpr const char* kScopeSocketName = "store.sock";

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

// Binds a new listening socket at `path` (which must not exist), owner-only
// from the moment it exists: no window where others can connect.
common::UniqueFd bind_listening(const std::string& path, std::string& error) {
  sockaddr_un address{};
  if (!make_address(path, address, error)) return {};
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = "cannot create a socket: " + common::errno_text(errno);
    return {};
  }
  mode_t old_mask = umask(0177);
  int rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  int bind_errno = errno;
  umask(old_mask);
  if (rc != 0) {
    error = "cannot bind " + path + ": " + common::errno_text(bind_errno);
    return {};
  }
  return fd;
}

// A connected socket to the Unix socket at `path`. Non-blocking while it
// connects: a full listen queue (the store stuck) must not stall the
// supervisor; the connection then fails and the handler reports it.
bool connect_unix(const std::string& path, common::UniqueFd& out, std::string& error) {
  sockaddr_un address{};
  if (!make_address(path, address, error)) return false;
  common::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    error = "cannot connect to the store at " + path + ": " + common::errno_text(errno);
    return false;
  }
  common::set_nonblocking(fd.get(), false);
  out = std::move(fd);
  return true;
}

// The address the peer of `fd` is bound to (a listener's path).
std::string peer_path(int fd) {
  sockaddr_un address{};
  socklen_t length = sizeof address;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 || address.sun_family != AF_UNIX ||
      length <= offsetof(sockaddr_un, sun_path)) {
    return {};
  }
  size_t size = length - offsetof(sockaddr_un, sun_path);
  return std::string(address.sun_path, strnlen(address.sun_path, size));
}

}  // namespace

StoreService::StoreService(uv_loop_t* loop, std::string run_dir, std::string log_level,
                           std::vector<std::string> sandbox_args, bool namespaces, std::function<void()> on_lost,
                           std::unique_ptr<StoreBackend> backend)
    : loop_(loop),
      run_dir_(std::move(run_dir)),
      socket_path_(run_dir_ + "/store.sock"),
      log_level_(std::move(log_level)),
      sandbox_args_(std::move(sandbox_args)),
      namespaces_(namespaces),
      probe_(loop, [this](common::UniqueFd& out, std::string& error) { return connect(out, error); }),
      on_lost_(std::move(on_lost)),
      backend_(std::move(backend)) {}

bool StoreService::start(std::string& error) {
  unlink(socket_path_.c_str());
  listen_fd_ = bind_listening(socket_path_, error);
  if (!listen_fd_) return false;
  if (listen(listen_fd_.get(), SOMAXCONN) != 0) {
    error = "cannot listen on " + socket_path_ + ": " + common::errno_text(errno);
    return false;
  }
  return spawn(error);
}

bool StoreService::spawn(std::string& error) {
  // The control channel: scopes go to the store on it (fd 4 there).
  common::UniqueFd ours;
  common::UniqueFd theirs;
  if (!ipc::make_channel_pair(ours, theirs)) {
    error = "cannot make the store's control channel: " + common::errno_text(errno);
    return false;
  }
  std::string executable = common::find_helper_executable("portbroker-store");
  std::vector<std::string> args = {"--listen-fd", "3", "--control-fd", "4", "--log-level", log_level_};
  args.insert(args.end(), sandbox_args_.begin(), sandbox_args_.end());
  auto backend_args = backend_->store_arguments();
  args.insert(args.end(), backend_args.begin(), backend_args.end());
  int rc = child_.spawn(loop_,
                        SpawnOptions{executable, args, {listen_fd_.get(), theirs.get()}, "store", namespaces_, false, {}},
                        [this](int64_t status, int term_signal) { on_exit(status, term_signal); });
  if (rc != 0) {
    error = "cannot start " + executable + ": " + common::errno_text(-rc);
    return false;
  }
  started_ms_ = uv_now(loop_);
  common::log::info("store-started").kv("pid", child_.pid()).kv("socket", socket_path_).kv("scopes", scopes_.size());
  close_control();
  control_ = std::move(ours);
  watch_control();
  // What backs it comes first (a relay's backend), then every scope, each
  // with its listener (whose queued connections it then accepts): a new
  // store knows none.
  backend_->on_store_started(*this);
  for (const auto& [tenant, scope] : scopes_) {
    send_control(ipc::encode(ipc::StoreScope{tenant, scope.max_bytes}), scope.listen_fd.get());
  }
  if (backend_->counts_keys()) probe_.start();
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
  close_control();
  backend_->on_store_exited();
  if (stopping_) {
    timer_.cancel();
    unlink(socket_path_.c_str());
    for (const auto& [tenant, scope] : scopes_) remove_scope_files(tenant);
    scopes_.clear();
    if (on_stopped_) std::exchange(on_stopped_, nullptr)();
    return;
  }
  // Connections already handed out are gone with it; new ones work again once
  // it is back (the listening sockets queue them meanwhile).
  ++restarts_;
  consecutive_failures_ = uv_now(loop_) - started_ms_ >= kStableRunMs ? 0 : consecutive_failures_ + 1;
  schedule_restart();
  if (on_lost_) on_lost_();
}

bool StoreService::connect(common::UniqueFd& out, std::string& error) { return connect_unix(socket_path_, out, error); }

bool StoreService::connect(const std::string& tenant, common::UniqueFd& out, std::string& error) {
  if (tenant.empty()) return connect(out, error);
  auto it = scopes_.find(tenant);
  if (it == scopes_.end()) {
    error = "tenant " + tenant + " has no part of the store";
    return false;
  }
  Scope& scope = it->second;
  std::string path = scope_socket_path(tenant);
  // The tenant owns its folder, so what is at the path is the tenant's
  // choice: connecting there as root must not reach anything but its own
  // scope (a symlink to the operator's socket would hand its worker the
  // whole store). Before: the socket must be the one bound. After (the
  // tenant may swap it in between): the peer must be bound at this path,
  // which only the supervisor's socket for this tenant is, or one the
  // tenant made itself.
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode) || info.st_dev != scope.device ||
      info.st_ino != scope.inode) {
    common::log::warn("store-scope-socket-replaced").kv("tenant", tenant).kv("socket", path);
    // Made anew (the store takes the new listener in place of the old).
    if (!make_scope_socket(tenant, scope, error)) return false;
    send_control(ipc::encode(ipc::StoreScope{tenant, scope.max_bytes}), scope.listen_fd.get());
  }
  if (!connect_unix(path, out, error)) return false;
  if (peer_path(out.get()) != path) {
    out.reset();
    error = "the store socket of tenant " + tenant + " leads elsewhere";
    return false;
  }
  return true;
}

std::string StoreService::scope_dir(const std::string& tenant) const { return run_dir_ + "/tenants/" + tenant; }

std::string StoreService::scope_socket_path(const std::string& tenant) const {
  return scope_dir(tenant) + "/" + kScopeSocketName;
}

bool StoreService::make_scope_socket(const std::string& tenant, Scope& scope, std::string& error) {
  // Every step goes through descriptors or paths only root can change: the
  // tenants' root is root's (0755), and the tenant's folder is taken back by
  // root (0700) before anything is put in it, so nothing the tenant (or its
  // uid's processes, with descriptors opened earlier) does can redirect a
  // bind, chmod or chown. The folder is handed to the tenant last.
  std::string root = run_dir_ + "/tenants";
  if (mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) {
    error = "cannot create " + root + ": " + common::errno_text(errno);
    return false;
  }
  common::UniqueFd root_fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd || fchown(root_fd.get(), geteuid(), getegid()) != 0 || fchmod(root_fd.get(), 0755) != 0) {
    error = "cannot prepare " + root + ": " + common::errno_text(errno);
    return false;
  }
  std::string dir = scope_dir(tenant);
  if (mkdirat(root_fd.get(), tenant.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create " + dir + ": " + common::errno_text(errno);
    return false;
  }
  common::UniqueFd dir_fd(openat(root_fd.get(), tenant.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir_fd || fchown(dir_fd.get(), geteuid(), getegid()) != 0 || fchmod(dir_fd.get(), 0700) != 0) {
    error = "cannot prepare " + dir + ": " + common::errno_text(errno);
    return false;
  }
  if (unlinkat(dir_fd.get(), kScopeSocketName, 0) != 0 && errno != ENOENT) {
    error = "cannot remove the old " + scope_socket_path(tenant) + ": " + common::errno_text(errno);
    return false;
  }
  std::string path = scope_socket_path(tenant);
  common::UniqueFd fd = bind_listening(path, error);
  if (!fd) return false;
  struct stat info {};
  if (fchmodat(dir_fd.get(), kScopeSocketName, 0600, 0) != 0 ||
      fchownat(dir_fd.get(), kScopeSocketName, scope.uid, scope.gid, AT_SYMLINK_NOFOLLOW) != 0 ||
      fstatat(dir_fd.get(), kScopeSocketName, &info, AT_SYMLINK_NOFOLLOW) != 0 ||
      listen(fd.get(), SOMAXCONN) != 0) {
    error = "cannot prepare " + path + ": " + common::errno_text(errno);
    unlinkat(dir_fd.get(), kScopeSocketName, 0);
    return false;
  }
  if (fchown(dir_fd.get(), scope.uid, scope.gid) != 0) {
    error = "cannot give " + dir + " to uid " + std::to_string(scope.uid) + ": " + common::errno_text(errno);
    unlinkat(dir_fd.get(), kScopeSocketName, 0);
    return false;
  }
  scope.listen_fd = std::move(fd);
  scope.device = info.st_dev;
  scope.inode = info.st_ino;
  return true;
}

bool StoreService::add_scope(const std::string& tenant, uid_t uid, gid_t gid, uint64_t max_bytes, std::string& error) {
  if (!policy::tenant_name_valid(tenant)) {
    error = "not a tenant's name: " + tenant;
    return false;
  }
  auto it = scopes_.find(tenant);
  if (it != scopes_.end()) {
    Scope& scope = it->second;
    bool new_owner = scope.uid != uid || scope.gid != gid;
    if (new_owner) {
      Scope renewed;
      renewed.uid = uid;
      renewed.gid = gid;
      if (!make_scope_socket(tenant, renewed, error)) return false;
      scope.uid = uid;
      scope.gid = gid;
      scope.listen_fd = std::move(renewed.listen_fd);
      scope.device = renewed.device;
      scope.inode = renewed.inode;
    }
    scope.max_bytes = max_bytes;
    send_control(ipc::encode(ipc::StoreScope{tenant, max_bytes}), new_owner ? scope.listen_fd.get() : -1);
    common::log::info("store-scope-updated")
        .kv("tenant", tenant)
        .kv("max_bytes", max_bytes)
        .kv("uid", static_cast<uint64_t>(uid))
        .kv("new_socket", new_owner);
    return true;
  }
  Scope scope;
  scope.uid = uid;
  scope.gid = gid;
  scope.max_bytes = max_bytes;
  if (!make_scope_socket(tenant, scope, error)) return false;
  auto& added = scopes_.emplace(tenant, std::move(scope)).first->second;
  send_control(ipc::encode(ipc::StoreScope{tenant, max_bytes}), added.listen_fd.get());
  common::log::info("store-scope-added")
      .kv("tenant", tenant)
      .kv("max_bytes", max_bytes)
      .kv("uid", static_cast<uint64_t>(uid))
      .kv("socket", scope_socket_path(tenant));
  return true;
}

void StoreService::remove_scope(const std::string& tenant) {
  auto it = scopes_.find(tenant);
  if (it == scopes_.end()) return;
  send_control(ipc::encode(ipc::StoreScopeRemove{tenant}));
  scopes_.erase(it);  // closes the supervisor's copy of the listener
  remove_scope_files(tenant);
  common::log::info("store-scope-removed").kv("tenant", tenant);
}

void StoreService::remove_scope_files(const std::string& tenant) {
  std::string root = run_dir_ + "/tenants";
  common::UniqueFd root_fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd) return;
  common::UniqueFd dir_fd(openat(root_fd.get(), tenant.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir_fd) unlinkat(dir_fd.get(), kScopeSocketName, 0);
  // Whatever else the tenant put there stays, and the folder with it:
  // removing a tree its owner controls is not worth the risk.
  if (unlinkat(root_fd.get(), tenant.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    common::log::warn("store-scope-folder-kept").kv("folder", scope_dir(tenant)).err(errno);
  }
}

void StoreService::send_control(std::vector<uint8_t> bytes, std::span<const int> fds) {
  if (!control_) return;  // the next store gets every scope when it starts
  if (outbox_.empty()) {
    int err = 0;
    auto result = ipc::send_message(control_.get(), bytes, fds, &err);
    if (result == ipc::IoResult::ok) return;
    if (result != ipc::IoResult::would_block) {
      // The store is going (its exit restarts it, with every scope).
      common::log::warn("store-control-failed").err(err);
      return;
    }
  }
  Outgoing outgoing{std::move(bytes), {}};
  for (int fd : fds) {
    outgoing.fds.emplace_back(fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!outgoing.fds.back()) {
      common::log::warn("store-control-failed").err(errno);
      return;
    }
  }
  outbox_.push_back(std::move(outgoing));
  watch_control();
}

void StoreService::send_queued() {
  while (!outbox_.empty() && control_) {
    Outgoing& next = outbox_.front();
    std::vector<int> fds;
    for (const auto& fd : next.fds) fds.push_back(fd.get());
    int err = 0;
    auto result = ipc::send_message(control_.get(), next.bytes, fds, &err);
    if (result == ipc::IoResult::would_block) break;
    if (result != ipc::IoResult::ok) common::log::warn("store-control-failed").err(err);
    outbox_.pop_front();
  }
  watch_control();
}

void StoreService::read_control() {
  // A bounded batch per wake-up; the poll is level-triggered.
  for (int handled = 0; control_ && (handled < 64 || control_reader_.pending()); ++handled) {
    int err = 0;
    switch (control_reader_.next(control_.get(), &err)) {
      case ipc::IoResult::ok:
        backend_->on_store_message(control_reader_.bytes(), control_reader_.fds(), *this);
        break;
      case ipc::IoResult::would_block:
        return;
      case ipc::IoResult::closed:
        // The store is going: its exit is handled on its own.
        close_control();
        return;
      case ipc::IoResult::error:
        if (err == EMSGSIZE) break;  // a truncated message, its fds closed already
        common::log::warn("store-control-failed").err(err);
        close_control();
        return;
    }
  }
}

void StoreService::watch_control() {
  if (!control_) return;
  if (!control_poll_) {
    if (int rc = control_poll_.init(uv_poll_init, loop_, control_.get()); rc != 0) {
      common::log::warn("store-control-failed").kv("error", uv_strerror(rc));
      return;
    }
    control_poll_->data = this;
    control_events_ = 0;
  }
  int events = UV_READABLE | (outbox_.empty() ? 0 : UV_WRITABLE);
  if (events == control_events_) return;
  control_events_ = events;
  uv_poll_start(control_poll_.get(), events, [](uv_poll_t* handle, int status, int ready) {
    auto* self = static_cast<StoreService*>(handle->data);
    if (self == nullptr) return;
    if (status < 0) {
      common::log::warn("store-control-failed").kv("error", uv_strerror(status));
      self->close_control();
      return;
    }
    if ((ready & UV_WRITABLE) != 0) self->send_queued();
    if ((ready & UV_READABLE) != 0 && self->control_) self->read_control();
  });
}

void StoreService::close_control() {
  control_poll_.reset();
  control_events_ = 0;
  control_.reset();
  outbox_.clear();
  // What it read from this channel is not the next store's to say (a
  // stale end of stream closed the new store's channel at once).
  control_reader_.reset();
}

std::optional<uint64_t> StoreService::key_count() { return probe_.key_count(); }

void StoreService::stop(std::function<void()> done) {
  stopping_ = true;
  probe_.stop();
  backend_->stop();
  listen_fd_.reset();
  if (!child_.running()) {
    timer_.cancel();
    close_control();
    unlink(socket_path_.c_str());
    for (const auto& [tenant, scope] : scopes_) remove_scope_files(tenant);
    scopes_.clear();
    done();
    return;
  }
  on_stopped_ = std::move(done);
  child_.signal(SIGTERM);
  timer_.start(loop_, kStopGraceMs, [this] { child_.signal(SIGKILL); });
}

}  // namespace supervisor
