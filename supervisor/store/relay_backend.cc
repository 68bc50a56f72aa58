#include "supervisor/store/relay_backend.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "common/bounded_file.h"
#include "common/log.h"
#include "common/process.h"
#include "supervisor/tls_material.h"

namespace supervisor {
namespace {

namespace log = common::log;

constexpr size_t kMaxPasswordBytes = 4096;
constexpr size_t kMaxCaBundleBytes = 1024 * 1024;
constexpr size_t kMaxPemBytes = 64 * 1024;

// A password file: root's, no access for group or others, one line.
bool read_password(const std::string& path, const std::string& field, std::string& out, std::string& error) {
  common::FileRules rules{.max_bytes = kMaxPasswordBytes,
                          .follow_symlinks = true,
                          .owner = geteuid(),
                          .forbidden_mode = static_cast<mode_t>(S_IRWXG | S_IRWXO)};
  if (!common::read_protected_file(path, rules, out, error)) {
    if (error.find("gives others too much") != std::string::npos) error += " (chmod 600)";
    error = field + ": " + error;
    return false;
  }
  // Editors end the line; the newline is not part of the password.
  if (out.ends_with("\n")) out.pop_back();
  if (out.ends_with("\r")) out.pop_back();
  if (out.empty()) {
    error = field + ": " + path + ": is empty";
    return false;
  }
  if (out.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    error = field + ": " + path + ": must hold one line (the password)";
    return false;
  }
  return true;
}

// A certificate file: root's, writable by no one else.
bool read_certificates(const std::string& path, const std::string& field, size_t max_bytes, std::string& out,
                       std::string& error) {
  common::FileRules rules{.max_bytes = max_bytes,
                          .follow_symlinks = true,
                          .owner = geteuid(),
                          .forbidden_mode = static_cast<mode_t>(S_IWGRP | S_IWOTH)};
  std::string text;
  if (!common::read_protected_file(path, rules, text, error) || !reencode_certificates(text, path, out, error)) {
    error = field + ": " + error;
    return false;
  }
  return true;
}

// A sealed memfd holding `text`: the relay reads it, and nothing can change
// it once sealed. Not a file anyone can open by name.
common::UniqueFd sealed_memfd(const std::string& text, std::string& error) {
  common::UniqueFd fd(memfd_create("portbroker-store-tls", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) {
    error = "memfd_create: " + common::errno_text(errno);
    return {};
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write a memfd: " + common::errno_text(errno);
      return {};
    }
    done += static_cast<size_t>(n);
  }
  if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    error = "cannot seal a memfd: " + common::errno_text(errno);
    return {};
  }
  return fd;
}

uint64_t wall_ms() { return static_cast<uint64_t>(time(nullptr)) * 1000; }

nlohmann::json text_or_null(const std::string& text) { return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text); }

}  // namespace

std::string iso_time_ms(uint64_t ms_since_epoch) {
  time_t seconds = static_cast<time_t>(ms_since_epoch / 1000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

RelayBackend::RelayBackend(uv_loop_t* loop, const policy::StoreBackendConfig& config)
    : loop_(loop), config_(config), dialer_(loop) {}

RelayBackend::~RelayBackend() = default;

std::unique_ptr<RelayBackend> RelayBackend::create(uv_loop_t* loop, const policy::StoreBackendConfig& config,
                                                   std::string& error) {
  std::unique_ptr<RelayBackend> backend(new RelayBackend(loop, config));
  ipc::StoreBackend& message = backend->message_;
  bool sentinel = config.kind == policy::StoreBackendConfig::Kind::sentinel;
  message.kind = sentinel ? ipc::StoreBackendKind::sentinel : ipc::StoreBackendKind::redis;
  for (const auto& address : sentinel ? config.sentinels : std::vector<policy::StoreAddress>{config.server}) {
    message.nodes.push_back(ipc::StoreNode{address.host, address.port, address.unix_path});
  }
  message.master_name = config.master_name;
  message.user = config.user;
  message.sentinel_user = config.sentinel_user;
  message.database = config.database;
  message.prefix = config.prefix;
  message.timeout_ms = config.timeout_ms;
  message.tls = config.tls;
  message.tls_server_name = config.tls_server_name;
  if (!config.password_file.empty() && !read_password(config.password_file, "/store/password_file", message.password, error)) {
    return nullptr;
  }
  if (!config.sentinel_password_file.empty() &&
      !read_password(config.sentinel_password_file, "/store/sentinel_password_file", message.sentinel_password, error)) {
    return nullptr;
  }
  if (config.tls) {
    if (!read_certificates(config.tls_ca_file, "/store/tls/ca", kMaxCaBundleBytes, backend->ca_pem_, error)) return nullptr;
    if (!config.tls_cert_file.empty()) {
      common::FileRules key_rules{.max_bytes = kMaxPemBytes,
                                  .follow_symlinks = true,
                                  .owner = geteuid(),
                                  .forbidden_mode = static_cast<mode_t>(S_IWGRP | S_IWOTH | S_IRWXO)};
      std::string key_text;
      if (!read_certificates(config.tls_cert_file, "/store/tls/cert", kMaxPemBytes, backend->cert_pem_, error)) {
        return nullptr;
      }
      if (!common::read_protected_file(config.tls_key_file, key_rules, key_text, error) ||
          !reencode_private_key(key_text, config.tls_key_file, backend->cert_pem_, backend->key_pem_, error)) {
        error = "/store/tls/key: " + error;
        return nullptr;
      }
      message.tls_client_certificate = true;
    }
  }
  backend->state_.state = ipc::StoreBackendStatus::connecting;
  backend->state_.since_ms = wall_ms();
  return backend;
}

void RelayBackend::on_store_started(StoreControl& store) {
  ++store_generation_;
  relay_running_ = true;
  relay_failovers_ = 0;
  std::vector<common::UniqueFd> material;
  std::string error;
  if (message_.tls) {
    for (const std::string* text : {&ca_pem_, &cert_pem_, &key_pem_}) {
      if (text != &ca_pem_ && !message_.tls_client_certificate) continue;
      common::UniqueFd fd = sealed_memfd(*text, error);
      if (!fd) {
        // The relay then serves UNAVAILABLE; status says why.
        log::error("store-backend-config-failed").kv("error", error);
        state_.error = "cannot hand the TLS material to the relay: " + error;
        return;
      }
      material.push_back(std::move(fd));
    }
  }
  std::vector<int> fds;
  for (const auto& fd : material) fds.push_back(fd.get());
  store.send_control(ipc::encode(message_), fds);
}

void RelayBackend::on_store_exited() {
  relay_running_ = false;
  dialer_.cancel_all();
  if (state_.state != ipc::StoreBackendStatus::down) {
    ++outages_;
    state_.since_ms = wall_ms();
  }
  state_.state = ipc::StoreBackendStatus::down;
  state_.error = "the store relay exited (it is restarted)";
}

void RelayBackend::on_store_message(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds,
                                    StoreControl& store) {
  bool carried_fds = !fds.empty();
  fds.clear();  // the relay never sends descriptors
  auto type = ipc::peek_type(message);
  if (!carried_fds && type == ipc::MessageType::store_dial) {
    ipc::StoreDial request;
    if (ipc::decode(message, request)) return dial(request, store);
  } else if (!carried_fds && type == ipc::MessageType::store_backend_state) {
    ipc::StoreBackendState state;
    if (ipc::decode(message, state)) return update_state(state);
  }
  log::warn("store-relay-message-refused").kv("type", type ? static_cast<int>(*type) : -1).kv("fds", carried_fds);
}

void RelayBackend::update_state(const ipc::StoreBackendState& state) {
  if (state.state == ipc::StoreBackendStatus::down && state_.state != ipc::StoreBackendStatus::down) ++outages_;
  if (state.failovers > relay_failovers_) failovers_ += state.failovers - relay_failovers_;
  relay_failovers_ = state.failovers;
  state_ = state;
}

void RelayBackend::dial(const ipc::StoreDial& request, StoreControl& store) {
  uint64_t now = uv_now(loop_);
  while (!recent_dials_ms_.empty() && now - recent_dials_ms_.front() >= 1000) recent_dials_ms_.pop_front();
  uint64_t generation = store_generation_;
  auto answer = [this, &store, generation, id = request.id](common::UniqueFd fd, const std::string& error) {
    if (generation != store_generation_ || !relay_running_) return;  // asked by a relay that is gone
    int raw = fd.get();
    std::span<const int> attached = fd ? std::span<const int>(&raw, 1) : std::span<const int>();
    store.send_control(ipc::encode(ipc::StoreDialed{id, fd ? std::string() : error.substr(0, ipc::kMaxStoreStateTextBytes)}),
                       attached);
  };
  // A relay is confined but serves hostile workers: if one ever took it
  // over, this is all it could make the supervisor do.
  std::string refusal;
  if (dialer_.in_flight() >= kMaxDialsInFlight || recent_dials_ms_.size() >= kMaxDialsPerSecond) {
    refusal = "too many connections asked for";
  } else if (request.target == ipc::StoreDialTarget::node && request.node >= message_.nodes.size()) {
    refusal = "no such node";
  } else if (request.target == ipc::StoreDialTarget::address &&
             (message_.kind != ipc::StoreBackendKind::sentinel || !policy::store_host_valid(request.host))) {
    refusal = "an address is only dialed for Sentinel's master";
  }
  if (!refusal.empty()) {
    log::warn("store-dial-refused").kv("reason", refusal);
    return answer({}, refusal);
  }
  recent_dials_ms_.push_back(now);
  if (request.target == ipc::StoreDialTarget::address) {
    log::debug("store-dial").kv("address", request.host + ":" + std::to_string(request.port));
    return dialer_.dial_tcp(request.host, request.port, message_.timeout_ms, answer);
  }
  const ipc::StoreNode& node = message_.nodes[request.node];
  log::debug("store-dial").kv("node", node.unix_path.empty() ? node.host + ":" + std::to_string(node.port) : node.unix_path);
  if (!node.unix_path.empty()) return dialer_.dial_unix(node.unix_path, answer);
  dialer_.dial_tcp(node.host, node.port, message_.timeout_ms, answer);
}

nlohmann::json RelayBackend::status() const {
  bool sentinel = message_.kind == ipc::StoreBackendKind::sentinel;
  nlohmann::json status = {
      {"kind", sentinel ? "sentinel" : "redis"},
      {"state", ipc::store_backend_status_name(state_.state)},
      {"since", iso_time_ms(state_.since_ms)},
      {"address", text_or_null(state_.address)},
      {"last_error", text_or_null(state_.error)},
      {"outages", outages_},
      {"failovers", failovers_},
      {"prefix", message_.prefix},
      {"tls", message_.tls},
      {"user", text_or_null(message_.user)},
      {"database", message_.database},
      {"timeout_ms", message_.timeout_ms},
  };
  if (sentinel) {
    nlohmann::json sentinels = nlohmann::json::array();
    for (const auto& address : config_.sentinels) sentinels.push_back(address.to_string());
    status["master"] = message_.master_name;
    status["sentinels"] = sentinels;
  } else {
    // The URL as configured: it never holds the password.
    status["server"] = policy::StoreUrl{config_.server, config_.tls, config_.user, config_.database}.to_string();
  }
  return status;
}

}  // namespace supervisor
