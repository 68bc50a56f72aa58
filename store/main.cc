// portbroker-store: the shared store behind ctx.shared, as its own process.
// The supervisor binds <run-dir>/store.sock and passes the listening socket in,
// so this process never opens a filesystem path and can be sandboxed tightly.
// Tenants' scopes, with their own listening sockets, arrive on the control
// channel (store/control.h).
//
//   portbroker-store --listen-fd N [--control-fd N] [--log-level debug|info|warn|error]
//                    [--max-memory-bytes N] [--uid N --gid N] [--sandbox on|off] [--relay]
//
// With --relay it holds no keys itself: it relays every request to a Redis
// or Valkey backend (store/relay/), with the same commands, rules and
// scopes. The backend's address and credentials arrive on the control
// channel, never on the command line; connections to it are made by the
// supervisor and passed in, so the relay stays as confined as the store.

#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <uv.h>

#include <array>
#include <functional>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "common/confined_sanitizer_options.h"
#include "common/log.h"
#include "common/process.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "store/commands.h"
#include "store/control.h"
#include "store/keyspace.h"
#include "store/memory.h"
#include "sandbox/credentials.h"
#include "sandbox/sandbox.h"
#include "store/pubsub.h"
#include "store/relay/backend.h"
#include "store/relay/relay_control.h"
#include "store/relay/relay_executor.h"
#include "store/server.h"

namespace {

namespace log = common::log;

constexpr int kExitUsage = 2;

struct Options {
  int listen_fd = -1;
  int control_fd = -1;  // none
  log::Level log_level = log::Level::info;
  size_t max_memory_bytes = store::kDefaultMaxMemoryBytes;
  // Confinement: the user to become (when started as root) and whether to.
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool sandbox = false;
  bool relay = false;
};

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Accepts "--name value" and "--name=value". Returns an error text, or nothing.
std::optional<std::string> parse_options(int argc, char** argv, Options& options) {
  bool have_fd = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[i + 1];
    }
    auto take_value = [&]() -> std::optional<std::string_view> {
      if (!value) return std::nullopt;
      if (name.size() == arg.size()) ++i;  // the value was the next argument
      return value;
    };
    if (name == "--listen-fd") {
      auto text = take_value();
      auto fd = text ? parse_number<int>(*text) : std::nullopt;
      if (!fd || *fd < 0) return "--listen-fd needs a file descriptor number";
      options.listen_fd = *fd;
      have_fd = true;
    } else if (name == "--control-fd") {
      auto text = take_value();
      auto fd = text ? parse_number<int>(*text) : std::nullopt;
      if (!fd || *fd < 0) return "--control-fd needs a file descriptor number";
      options.control_fd = *fd;
    } else if (name == "--log-level") {
      auto text = take_value();
      auto level = text ? log::parse_level(*text) : std::nullopt;
      if (!level) return "--log-level needs one of debug, info, warn, error";
      options.log_level = *level;
    } else if (name == "--uid" || name == "--gid") {
      auto text = take_value();
      auto id = text ? parse_number<uint32_t>(*text) : std::nullopt;
      if (!id) return std::string(name) + " needs a numeric id";
      (name == "--uid" ? options.uid : options.gid) = *id;
    } else if (name == "--sandbox") {
      auto text = take_value();
      if (!text || (*text != "on" && *text != "off")) return "--sandbox needs on or off";
      options.sandbox = *text == "on";
    } else if (name == "--relay") {
      options.relay = true;
    } else if (name == "--max-memory-bytes") {
      auto text = take_value();
      auto bytes = text ? parse_number<size_t>(*text) : std::nullopt;
      if (!bytes || *bytes == 0) return "--max-memory-bytes needs a positive number of bytes";
      options.max_memory_bytes = *bytes;
    } else {
      return "unknown argument '" + std::string(arg) + "'";
    }
  }
  if (!have_fd) return "--listen-fd is required";
  if (options.relay && options.control_fd < 0) return "--relay needs --control-fd (its backend comes on it)";
  if (options.control_fd == options.listen_fd) return "--control-fd and --listen-fd must differ";
  return std::nullopt;
}

// SIGTERM and SIGINT stop the store cleanly: no new clients, every client
// closed, the control channel closed (and, relaying, the backend's
// connections), then the loop runs dry and main returns 0.
class StopOnSignals {
 public:
  StopOnSignals(uv_loop_t* loop, std::function<void()> stop) : stop_(std::move(stop)) {
    static constexpr std::array kSignals = {SIGTERM, SIGINT};
    for (size_t i = 0; i < kSignals.size(); ++i) {
      int rc = handles_[i].init(uv_signal_init, loop);
      if (rc == 0) {
        handles_[i]->data = this;
        rc = uv_signal_start(handles_[i].get(), on_signal, kSignals[i]);
      }
      if (rc != 0) log::warn("store-signal-failed").kv("signal", kSignals[i]).kv("error", uv_strerror(rc));
    }
  }

 private:
  static void on_signal(uv_signal_t* handle, int signum) {
    auto* self = static_cast<StopOnSignals*>(handle->data);
    if (self == nullptr) return;
    log::info("store-stopping").kv("signal", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    self->stop_();
    for (auto& signal_handle : self->handles_) signal_handle.reset();
  }

  std::function<void()> stop_;
  std::array<common::UvHandle<uv_signal_t>, 2> handles_;
};

// The embedded store: keys, pub/sub and scopes in this process.
int serve_store(uv_loop_t* loop, const Options& options, common::UniqueFd listening_socket,
                common::UniqueFd control_socket) {
  store::MemoryAccount memory(options.max_memory_bytes);
  store::Keyspace keyspace(memory);
  store::PubSub pubsub(memory);
  store::Executor executor(keyspace, pubsub, memory);
  store::Server server(loop, executor, memory);
  store::KeyspaceScopes scopes(keyspace);
  store::ScopeControl scope_control(server, scopes);
  store::ControlChannel control(loop, scope_control);
  if (!server.listen(std::move(listening_socket)) || (control_socket && !control.start(std::move(control_socket)))) {
    return 1;
  }
  StopOnSignals stop_on_signals(loop, [&] {
    server.stop();
    control.stop();
  });
  log::info("store-ready")
      .kv("fd", options.listen_fd)
      .kv("control_fd", options.control_fd)
      .kv("max_memory_bytes", options.max_memory_bytes);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}

// The relay: the same sockets and rules, the keys on Redis or Valkey. The
// objects refer to each other (the backend dials through the control
// channel, which configures the backend), so some links are set after
// construction; they are destroyed in reverse, the backend before the dialer.
int serve_relay(uv_loop_t* loop, const Options& options, common::UniqueFd listening_socket,
                common::UniqueFd control_socket) {
  namespace relay = store::relay;
  store::MemoryAccount memory(options.max_memory_bytes);
  store::PubSub pubsub(memory);
  relay::ControlDialer dialer(loop);
  relay::Backend backend(loop, dialer);
  relay::RelayExecutor executor(backend, pubsub, memory);
  store::Server server(loop, executor, memory);
  executor.attach(server);
  relay::RelayScopes scopes;
  relay::RelayControl relay_control(server, scopes, backend, executor, dialer);
  store::ControlChannel control(loop, relay_control);
  dialer.attach(control);
  backend.set_events({
      .on_message = [&](std::string_view channel, std::string_view payload) { executor.on_message(channel, payload); },
      .channels = [&] { return executor.channels(); },
      .on_state = [&](const ipc::StoreBackendState& state) { control.send(ipc::encode(state)); },
  });
  if (!server.listen(std::move(listening_socket)) || !control.start(std::move(control_socket))) return 1;
  StopOnSignals stop_on_signals(loop, [&] {
    server.stop();
    backend.stop();
    dialer.stop();
    control.stop();
  });
  log::info("store-ready")
      .kv("mode", "relay")
      .kv("fd", options.listen_fd)
      .kv("control_fd", options.control_fd)
      .kv("max_memory_bytes", options.max_memory_bytes);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  common::die_with_parent();
  log::add_process_field("component", "store");

  Options options;
  if (auto error = parse_options(argc, argv, options)) {
    log::error("store-bad-arguments").kv("error", *error);
    return kExitUsage;
  }
  log::set_min_level(options.log_level);
  // The inherited fds must be what the supervisor promises: anything else
  // means it and this binary disagree, and failing now says so clearly.
  if (auto error = store::check_listening_socket(options.listen_fd)) {
    log::error("store-bad-arguments").kv("error", *error);
    return kExitUsage;
  }
  if (options.control_fd >= 0) {
    if (auto error = store::check_control_socket(options.control_fd)) {
      log::error("store-bad-arguments").kv("error", *error);
      return kExitUsage;
    }
  }
  common::UniqueFd listening_socket(options.listen_fd);
  common::set_cloexec(listening_socket.get(), true);
  common::UniqueFd control_socket(options.control_fd);
  if (control_socket) common::set_cloexec(control_socket.get(), true);

  // A client that disconnects with replies pending must cost an EPIPE, not the process.
  signal(SIGPIPE, SIG_IGN);
  common::raise_open_file_limit();

  // OpenSSL reads its configuration file when first used: now, while files
  // can still be opened (the relay's TLS to the backend uses it later).
  if (options.relay && OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
    log::error("store-start-failed").kv("error", "OpenSSL did not initialise");
    return 1;
  }

  // Confined before it reads a single request: its own user, no capabilities,
  // no files (its seccomp profile refuses opens), no new sockets.
  if (options.sandbox) {
    sandbox::Config config;
    config.profile = sandbox::Profile::store;
    config.uid = options.uid;
    config.gid = options.gid;
    config.limits.open_files = 65536;
    config.namespaces = sandbox::namespaces_from_environment();
    auto report = sandbox::confine(config);
    if (!report.confined) {
      log::error("store-sandbox-failed").kv("reason", report.fatal);
      return 1;
    }
    std::string namespaces;
    for (const auto& name : config.namespaces) namespaces += (namespaces.empty() ? "" : ",") + name;
    log::info("store-confined")
        .kv("uid", static_cast<uint64_t>(getuid()))
        .kv("namespaces", namespaces)
        .kv("seccomp", report.seccomp);
    for (const auto& missing : report.missing) log::warn("store-sandbox-incomplete").kv("missing", missing);
  } else {
    // Sandbox disabled (debugging): still never root, never capabilities.
    std::string error;
    sandbox::Identity identity{options.uid, options.gid};
    if (!sandbox::drop_privileges(geteuid() == 0 ? &identity : nullptr, error)) {
      log::error("store-sandbox-failed").kv("reason", error);
      return 1;
    }
  }

  uv_loop_t loop;
  if (int rc = uv_loop_init(&loop); rc != 0) {
    log::error("store-start-failed").kv("error", uv_strerror(rc));
    return 1;
  }
  int exit_code = options.relay ? serve_relay(&loop, options, std::move(listening_socket), std::move(control_socket))
                                : serve_store(&loop, options, std::move(listening_socket), std::move(control_socket));
  common::drain_and_close_loop(&loop);
  if (exit_code == 0) log::info("store-stopped");
  return exit_code;
}
