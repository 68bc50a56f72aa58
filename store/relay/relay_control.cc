#include "store/relay/relay_control.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/process.h"
#include "ipc/messages.h"

namespace store::relay {
namespace {

namespace log = common::log;

// A CA bundle, a certificate chain or a key: what the supervisor sends is
// its own re-encoding of files it checked, well under this.
constexpr size_t kMaxMaterialBytes = 4 * 1024 * 1024;

bool read_memfd(int fd, std::string& out, std::string& error) {
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    error = "TLS material is not a file";
    return false;
  }
  if (info.st_size < 0 || static_cast<uint64_t>(info.st_size) > kMaxMaterialBytes) {
    error = "TLS material is larger than " + std::to_string(kMaxMaterialBytes) + " bytes";
    return false;
  }
  out.resize(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < out.size()) {
    // pread: the supervisor's writes left the shared file offset at the end.
    ssize_t n = pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot read TLS material: " + common::errno_text(n < 0 ? errno : EIO);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool is_stream_socket(int fd) {
  struct stat info {};
  int type = 0;
  socklen_t length = sizeof type;
  return fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode) &&
         getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 && type == SOCK_STREAM;
}

}  // namespace

void RelayScopes::set_scope(std::string_view name, size_t max_bytes, log::Line& line) {
  names_.emplace(name);
  line.kv("quota", max_bytes > 0 ? "not enforced on an external backend" : "none");
}

void RelayScopes::remove_scope(std::string_view name, log::Line& line) {
  if (auto it = names_.find(name); it != names_.end()) names_.erase(it);
  line.kv("keys_kept", "on the backend");
}

void ControlDialer::dial(const ipc::StoreDial& request, Done done) {
  uint32_t id = next_id_++;
  if (id == 0) id = next_id_++;
  auto entry = std::make_unique<Pending>();
  entry->done = std::move(done);
  // The backend keeps a few connections; a bound regardless. Failed on the
  // next loop iteration, never from inside dial().
  bool full = pending_.size() >= kMaxPending;
  entry->deadline.start(loop_, full ? 0 : timeout_ms_, [this, id, full] {
    finish(id, {}, full ? "too many connections under way" : "the supervisor did not connect in time");
  });
  pending_.emplace(id, std::move(entry));
  if (full || channel_ == nullptr) return;
  ipc::StoreDial message = request;
  message.id = id;
  channel_->send(ipc::encode(message));
}

bool ControlDialer::answer(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  ipc::StoreDialed dialed;
  if (!ipc::decode(message, dialed) || !pending_.contains(dialed.id) || fds.size() != (dialed.error.empty() ? 1u : 0u) ||
      (!fds.empty() && !is_stream_socket(fds.front().get()))) {
    log::warn("store-control-refused").kv("message", "store_dialed").kv("reason", "malformed or unexpected");
    fds.clear();
    return false;
  }
  common::UniqueFd fd = fds.empty() ? common::UniqueFd() : std::move(fds.front());
  fds.clear();
  finish(dialed.id, std::move(fd), dialed.error.empty() ? std::string() : dialed.error);
  return true;
}

void ControlDialer::finish(uint32_t id, common::UniqueFd fd, const std::string& error) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  // Taken out first: `done` may dial again.
  std::unique_ptr<Pending> entry = std::move(it->second);
  pending_.erase(it);
  entry->deadline.cancel();
  entry->done(std::move(fd), error);
}

void ControlDialer::stop() { pending_.clear(); }

bool RelayControl::handle(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  auto type = ipc::peek_type(message);
  if (type == ipc::MessageType::store_backend) return configure(message, fds);
  if (type == ipc::MessageType::store_dialed) return dialer_.answer(message, fds);
  return handle_scope_message(message, fds);
}

bool RelayControl::configure(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) {
  // The passwords stay in the backend's memory (every reconnection needs
  // them) and nowhere else: never logged, never in a reply.
  ipc::StoreBackend config;
  size_t expected_fds = 0;
  bool ok = ipc::decode(message, config);
  if (ok) expected_fds = config.tls ? (config.tls_client_certificate ? 3 : 1) : 0;
  if (!ok || fds.size() != expected_fds) {
    log::error("store-control-refused").kv("message", "store_backend").kv("reason", "malformed");
    fds.clear();
    return false;
  }
  std::string material[3];
  std::string error;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (!read_memfd(fds[i].get(), material[i], error)) break;
  }
  fds.clear();
  dialer_.set_timeout_ms(config.timeout_ms + 1000);
  bool configured = error.empty() && backend_.configure(std::move(config), material[0], material[1], material[2], error);
  if (!material[2].empty()) OPENSSL_cleanse(material[2].data(), material[2].size());
  if (!configured) {
    // Clients keep getting UNAVAILABLE; the supervisor shows the reason.
    log::error("store-backend-invalid").kv("error", error);
    return false;
  }
  executor_.configured();
  return true;
}

}  // namespace store::relay
