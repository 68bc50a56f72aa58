#include "ipc/messages.h"

#include <sys/socket.h>

#include <algorithm>

#include "common/path_parts.h"
#include "ipc/channel.h"

namespace ipc {
namespace {

constexpr uint8_t kFamilyIPv4 = 4;
constexpr uint8_t kFamilyIPv6 = 6;

WireWriter start(MessageType type) {
  WireWriter writer;
  writer.put(static_cast<uint16_t>(type));
  return writer;
}

std::vector<uint8_t> finish(const WireWriter& writer) { return {writer.bytes().begin(), writer.bytes().end()}; }

bool open_reader(WireReader& reader, MessageType type) {
  return reader.get<uint16_t>() == static_cast<uint16_t>(type) && reader.ok();
}

bool close_reader(const WireReader& reader) { return reader.ok() && reader.at_end(); }

// A boolean is 0 or 1; any other byte makes the message malformed.
bool get_bool(WireReader& reader, bool& out) {
  auto byte = reader.get<uint8_t>();
  out = byte == 1;
  return reader.ok() && byte <= 1;
}

}  // namespace

const char* worker_exit_meaning(int status) {
  switch (static_cast<WorkerExit>(status)) {
    case WorkerExit::engine_stopped: return "the JavaScript engine stopped (out of memory, or an uncatchable error)";
    case WorkerExit::cpu_limit: return "stopped by the CPU watchdog (a callback ran longer than worker.cpu_limit_ms)";
    case WorkerExit::memory_limit: return "stopped by the memory watchdog (resident memory over worker.memory_mb)";
  }
  return nullptr;
}

std::optional<MessageType> peek_type(std::span<const uint8_t> message) {
  WireReader reader(message);
  auto type = reader.get<uint16_t>();
  if (!reader.ok()) return std::nullopt;
  return static_cast<MessageType>(type);
}

void put_address(WireWriter& writer, const common::SocketAddress& address) {
  // An empty address encodes as family 0, which no decoder accepts.
  writer.put(address.family() == AF_INET ? kFamilyIPv4 : address.family() == AF_INET6 ? kFamilyIPv6 : uint8_t{0});
  auto bytes = address.bytes();
  writer.append(bytes.data(), bytes.size());
  writer.put(address.port());
}

common::SocketAddress get_address(WireReader& reader) {
  auto family = reader.get<uint8_t>();
  std::array<uint8_t, 16> bytes{};
  reader.get_raw(bytes.data(), bytes.size());
  auto port = reader.get<uint16_t>();
  if (!reader.ok() || (family != kFamilyIPv4 && family != kFamilyIPv6)) return {};
  // An IPv4 address fills the first 4 bytes; anything in the rest would be
  // ignored, so it is refused (one encoding per address).
  if (family == kFamilyIPv4 && std::any_of(bytes.begin() + 4, bytes.end(), [](uint8_t b) { return b != 0; })) return {};
  return common::SocketAddress::from_parts(family == kFamilyIPv4 ? AF_INET : AF_INET6, bytes, port);
}

std::vector<uint8_t> encode(const WorkerInit& message) {
  auto writer = start(MessageType::worker_init);
  writer.put_string(message.handler_name);
  writer.put_string(message.tenant);
  writer.put_string(message.module_file);
  writer.put_string(message.handlers_dir);
  writer.put_string(message.transport);
  writer.put(message.port);
  writer.put_string(message.log_level);
  writer.put(message.open_timeout_ms);
  writer.put(static_cast<uint8_t>(message.sandbox));
  writer.put(message.uid);
  writer.put(message.gid);
  writer.put(message.outer_uid);
  writer.put(message.outer_gid);
  writer.put(message.open_files);
  writer.put(message.processes);
  writer.put(message.address_space_bytes);
  writer.put(message.heap_bytes);
  writer.put(message.memory_bytes);
  writer.put(message.cpu_limit_ms);
  writer.put_string(message.tls_json);
  writer.put(static_cast<uint8_t>(message.check_only));
  writer.put(static_cast<uint8_t>(message.http_client));
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, WorkerInit& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::worker_init)) return false;
  out.handler_name = reader.get_string();
  out.tenant = reader.get_string();
  out.module_file = reader.get_string();
  out.handlers_dir = reader.get_string();
  out.transport = reader.get_string();
  out.port = reader.get<uint16_t>();
  out.log_level = reader.get_string();
  out.open_timeout_ms = reader.get<uint32_t>();
  if (!get_bool(reader, out.sandbox)) return false;
  out.uid = reader.get<uint32_t>();
  out.gid = reader.get<uint32_t>();
  out.outer_uid = reader.get<uint32_t>();
  out.outer_gid = reader.get<uint32_t>();
  out.open_files = reader.get<uint64_t>();
  out.processes = reader.get<uint64_t>();
  out.address_space_bytes = reader.get<uint64_t>();
  out.heap_bytes = reader.get<uint64_t>();
  out.memory_bytes = reader.get<uint64_t>();
  out.cpu_limit_ms = reader.get<uint32_t>();
  out.tls_json = reader.get_string();
  return get_bool(reader, out.check_only) && get_bool(reader, out.http_client) && close_reader(reader);
}

namespace {

void put_proxy(WireWriter& writer, const ProxyInfo& proxy) {
  writer.put(proxy.version);
  put_address(writer, proxy.balancer);
  writer.put(static_cast<uint8_t>(proxy.destination.valid()));
  if (proxy.destination.valid()) put_address(writer, proxy.destination);
  writer.put_string(proxy.authority);
  writer.put_string(proxy.alpn);
  writer.put_bytes(proxy.unique_id);
  writer.put(static_cast<uint8_t>(proxy.ssl.has_value()));
  if (proxy.ssl) {
    writer.put(static_cast<uint8_t>(proxy.ssl->client_certificate));
    writer.put(static_cast<uint8_t>(proxy.ssl->verified));
    writer.put_string(proxy.ssl->version);
    writer.put_string(proxy.ssl->common_name);
  }
}

bool get_text(WireReader& reader, std::string& out, size_t max) {
  auto text = reader.get_string();
  out = text;
  return reader.ok() && text.size() <= max;
}

bool get_proxy(WireReader& reader, ProxyInfo& out) {
  out.version = reader.get<uint8_t>();
  if (out.version != 1 && out.version != 2) return false;
  out.balancer = get_address(reader);
  if (!out.balancer.valid()) return false;
  bool has_destination = false;
  if (!get_bool(reader, has_destination)) return false;
  if (has_destination) {
    out.destination = get_address(reader);
    if (!out.destination.valid()) return false;
  }
  if (!get_text(reader, out.authority, kMaxProxyTextBytes) || !get_text(reader, out.alpn, kMaxProxyTextBytes)) {
    return false;
  }
  auto unique_id = reader.get_bytes();
  if (!reader.ok() || unique_id.size() > kMaxProxyUniqueIdBytes) return false;
  out.unique_id.assign(unique_id.begin(), unique_id.end());
  bool has_ssl = false;
  if (!get_bool(reader, has_ssl)) return false;
  if (!has_ssl) return true;
  auto& ssl = out.ssl.emplace();
  // Verified says a certificate was presented and checked: never one without the other.
  if (!get_bool(reader, ssl.client_certificate) || !get_bool(reader, ssl.verified) ||
      (ssl.verified && !ssl.client_certificate)) {
    return false;
  }
  return get_text(reader, ssl.version, kMaxProxyTextBytes) && get_text(reader, ssl.common_name, kMaxProxyTextBytes);
}

}  // namespace

std::vector<uint8_t> encode(const ConnectionHandoff& message) {
  auto writer = start(MessageType::connection);
  writer.put(message.id);
  put_address(writer, message.remote);
  writer.put(static_cast<uint8_t>(message.proxy.has_value()));
  if (message.proxy) put_proxy(writer, *message.proxy);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, ConnectionHandoff& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::connection)) return false;
  out.id = reader.get<uint64_t>();
  out.remote = get_address(reader);
  bool has_proxy = false;
  if (!get_bool(reader, has_proxy)) return false;
  out.proxy.reset();
  if (has_proxy && !get_proxy(reader, out.proxy.emplace())) return false;
  return close_reader(reader) && out.remote.valid();
}

std::vector<uint8_t> encode(const WorkerStop& message) {
  auto writer = start(MessageType::worker_stop);
  writer.put(message.close_timeout_ms);
  writer.put(message.drain_timeout_ms);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, WorkerStop& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::worker_stop)) return false;
  out.close_timeout_ms = reader.get<uint32_t>();
  out.drain_timeout_ms = reader.get<uint32_t>();
  return close_reader(reader);
}

std::vector<uint8_t> encode(const StoreConnections&) { return finish(start(MessageType::store_connections)); }

bool decode(std::span<const uint8_t> message, StoreConnections&) {
  WireReader reader(message);
  return open_reader(reader, MessageType::store_connections) && close_reader(reader);
}

std::vector<uint8_t> encode(const StoreReconnect&) { return finish(start(MessageType::store_reconnect)); }

bool decode(std::span<const uint8_t> message, StoreReconnect&) {
  WireReader reader(message);
  return open_reader(reader, MessageType::store_reconnect) && close_reader(reader);
}

// The paths come from a process running untrusted code, and the supervisor
// stats them: only plain relative paths inside the handlers folder pass.
bool valid_module_path(const std::string& path) {
  if (path.empty() || path.size() > kMaxModulePathBytes || path.front() == '/') return false;
  return common::plain_path_parts(path);
}

namespace {

// Sandbox reports, TLS updates and statistics: a type and one string.
std::vector<uint8_t> encode_text(MessageType type, const std::string& text) {
  auto writer = start(type);
  writer.put_string(text);
  return finish(writer);
}

bool decode_text(std::span<const uint8_t> message, MessageType type, std::string& out) {
  WireReader reader(message);
  if (!open_reader(reader, type)) return false;
  out = reader.get_string();
  return close_reader(reader);
}

void put_modules(WireWriter& writer, const std::vector<ModuleFile>& modules) {
  writer.put(static_cast<uint32_t>(modules.size()));
  for (const auto& module : modules) {
    writer.put_string(module.path);
    writer.put_string(module.stamp);
  }
}

bool get_modules(WireReader& reader, std::vector<ModuleFile>& modules) {
  auto count = reader.get<uint32_t>();
  modules.clear();
  if (count > kMaxReportedModules) return false;
  for (uint32_t i = 0; i < count; ++i) {
    ModuleFile module;
    module.path = reader.get_string();
    module.stamp = reader.get_string();
    if (!valid_module_path(module.path)) return false;
    modules.push_back(std::move(module));
  }
  return true;
}

}  // namespace

std::vector<uint8_t> encode(const WorkerFailed& message) {
  auto writer = start(MessageType::worker_failed);
  // A reason (an error with its stack) longer than the supervisor accepts is
  // cut here, so what a worker sends is always decodable.
  writer.put_string(std::string_view(message.reason).substr(0, kMaxFailureReasonBytes));
  put_modules(writer, message.modules);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, WorkerFailed& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::worker_failed)) return false;
  out.reason = reader.get_string();
  return out.reason.size() <= kMaxFailureReasonBytes && get_modules(reader, out.modules) && close_reader(reader);
}

std::vector<uint8_t> encode(const WorkerReady& message) {
  auto writer = start(MessageType::worker_ready);
  writer.put_string(message.access_json);
  put_modules(writer, message.modules);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, WorkerReady& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::worker_ready)) return false;
  out.access_json = reader.get_string();
  return get_modules(reader, out.modules) && close_reader(reader);
}

std::vector<uint8_t> encode(const ModulesLoaded& message) {
  auto writer = start(MessageType::modules_loaded);
  put_modules(writer, message.modules);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, ModulesLoaded& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::modules_loaded)) return false;
  return get_modules(reader, out.modules) && !out.modules.empty() && close_reader(reader);
}

std::vector<uint8_t> encode(const TlsUpdate& message) { return encode_text(MessageType::tls_update, message.tls_json); }

bool decode(std::span<const uint8_t> message, TlsUpdate& out) {
  return decode_text(message, MessageType::tls_update, out.tls_json);
}

namespace {

void put_strings(WireWriter& writer, const std::vector<std::string>& list) {
  writer.put(static_cast<uint32_t>(list.size()));
  for (const auto& item : list) writer.put_string(item);
}

bool get_strings(WireReader& reader, std::vector<std::string>& list) {
  auto count = reader.get<uint32_t>();
  list.clear();
  if (!reader.ok() || count > kMaxReportEntries) return false;
  for (uint32_t i = 0; i < count; ++i) {
    auto item = reader.get_string();
    if (!reader.ok() || item.size() > kMaxReportTextBytes) return false;
    list.emplace_back(item);
  }
  return true;
}

bool printable_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::vector<uint8_t> encode(const TlsStats& message) {
  auto writer = start(MessageType::tls_stats);
  writer.put(message.handshakes);
  writer.put(static_cast<uint32_t>(message.failures.size()));
  for (const auto& failure : message.failures) {
    writer.put_string(failure.reason);
    writer.put(failure.count);
  }
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, TlsStats& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::tls_stats)) return false;
  out = {};
  out.handshakes = reader.get<uint64_t>();
  auto count = reader.get<uint32_t>();
  if (!reader.ok() || count > kMaxReportEntries) return false;
  for (uint32_t i = 0; i < count; ++i) {
    TlsStats::Failure failure;
    failure.reason = reader.get_string();
    failure.count = reader.get<uint64_t>();
    if (!reader.ok() || failure.reason.empty() || failure.reason.size() > kMaxTlsFailureReasonBytes ||
        !printable_ascii(failure.reason)) {
      return false;
    }
    for (const auto& seen : out.failures) {
      if (seen.reason == failure.reason) return false;
    }
    out.failures.push_back(std::move(failure));
  }
  return close_reader(reader);
}

std::vector<uint8_t> encode(const TlsCertificateRequest& message) {
  auto writer = start(MessageType::tls_certificate_request);
  writer.put_string(message.name);
  writer.put_string(message.public_key_pem);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, TlsCertificateRequest& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::tls_certificate_request)) return false;
  out.name = reader.get_string();
  out.public_key_pem = reader.get_string();
  return close_reader(reader) && !out.name.empty() && out.name.size() <= kMaxTlsHostNameBytes &&
         printable_ascii(out.name) && !out.public_key_pem.empty() && out.public_key_pem.size() <= kMaxPublicKeyPemBytes;
}

std::vector<uint8_t> encode(const TlsCertificate& message) {
  auto writer = start(MessageType::tls_certificate);
  writer.put_string(message.name);
  writer.put_string(message.cert_pem);
  writer.put_string(message.error);
  writer.put(static_cast<uint8_t>(message.permanent));
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, TlsCertificate& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::tls_certificate)) return false;
  out.name = reader.get_string();
  out.cert_pem = reader.get_string();
  out.error = reader.get_string();
  return get_bool(reader, out.permanent) && close_reader(reader);
}

std::vector<uint8_t> encode(const WorkerSandbox& message) {
  auto writer = start(MessageType::worker_sandbox);
  writer.put(static_cast<uint8_t>(message.confined));
  writer.put_string(message.reason);
  writer.put(message.uid);
  writer.put(message.gid);
  put_strings(writer, message.namespaces);
  for (bool flag : {message.minimal_root, message.seccomp, message.no_new_privs, message.no_capabilities}) {
    writer.put(static_cast<uint8_t>(flag));
  }
  writer.put(message.open_files);
  writer.put(message.processes);
  writer.put(message.address_space_bytes);
  put_strings(writer, message.missing);
  put_strings(writer, message.notes);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, WorkerSandbox& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::worker_sandbox)) return false;
  out = {};
  if (!get_bool(reader, out.confined)) return false;
  out.reason = reader.get_string();
  out.uid = reader.get<uint32_t>();
  out.gid = reader.get<uint32_t>();
  if (!reader.ok() || out.reason.size() > kMaxReportTextBytes || !get_strings(reader, out.namespaces)) return false;
  for (bool* flag : {&out.minimal_root, &out.seccomp, &out.no_new_privs, &out.no_capabilities}) {
    if (!get_bool(reader, *flag)) return false;
  }
  out.open_files = reader.get<uint64_t>();
  out.processes = reader.get<uint64_t>();
  out.address_space_bytes = reader.get<uint64_t>();
  return get_strings(reader, out.missing) && get_strings(reader, out.notes) && close_reader(reader);
}

bool decode(std::span<const uint8_t> message, SeccompViolation& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::seccomp_violation)) return false;
  out.syscall_nr = reader.get<uint32_t>();
  return close_reader(reader);
}

namespace {

bool valid_scope_name_length(std::string_view name) { return !name.empty() && name.size() <= kMaxStoreScopeNameBytes; }

}  // namespace

std::vector<uint8_t> encode(const StoreScope& message) {
  auto writer = start(MessageType::store_scope);
  writer.put_string(message.name);
  writer.put(message.max_bytes);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, StoreScope& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::store_scope)) return false;
  out.name = reader.get_string();
  out.max_bytes = reader.get<uint64_t>();
  return close_reader(reader) && valid_scope_name_length(out.name);
}

std::vector<uint8_t> encode(const StoreScopeRemove& message) {
  return encode_text(MessageType::store_scope_remove, message.name);
}

bool decode(std::span<const uint8_t> message, StoreScopeRemove& out) {
  return decode_text(message, MessageType::store_scope_remove, out.name) && valid_scope_name_length(out.name);
}

namespace {

// A string field within `max` bytes (an empty one allowed).
bool get_bounded(WireReader& reader, std::string& out, size_t max) {
  auto text = reader.get_string();
  out.assign(text);
  return reader.ok() && text.size() <= max;
}

}  // namespace

std::vector<uint8_t> encode(const StoreBackend& message) {
  auto writer = start(MessageType::store_backend);
  writer.put(static_cast<uint8_t>(message.kind));
  writer.put(static_cast<uint32_t>(message.nodes.size()));
  for (const auto& node : message.nodes) {
    writer.put_string(node.host);
    writer.put(node.port);
    writer.put_string(node.unix_path);
  }
  for (const auto* text : {&message.master_name, &message.user, &message.password, &message.sentinel_user,
                           &message.sentinel_password}) {
    writer.put_string(*text);
  }
  writer.put(message.database);
  writer.put_string(message.prefix);
  writer.put(message.timeout_ms);
  writer.put(static_cast<uint8_t>(message.tls));
  writer.put(static_cast<uint8_t>(message.tls_client_certificate));
  writer.put_string(message.tls_server_name);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, StoreBackend& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::store_backend)) return false;
  auto kind = reader.get<uint8_t>();
  if (kind != static_cast<uint8_t>(StoreBackendKind::redis) && kind != static_cast<uint8_t>(StoreBackendKind::sentinel)) {
    return false;
  }
  out.kind = static_cast<StoreBackendKind>(kind);
  auto count = reader.get<uint32_t>();
  if (!reader.ok() || count == 0 || count > kMaxStoreNodes) return false;
  out.nodes.assign(count, StoreNode{});
  for (auto& node : out.nodes) {
    if (!get_bounded(reader, node.host, kMaxStoreHostBytes)) return false;
    node.port = reader.get<uint16_t>();
    if (!get_bounded(reader, node.unix_path, kMaxStoreHostBytes)) return false;
    // Exactly one of the two forms.
    if (node.unix_path.empty() == node.host.empty() || (node.unix_path.empty() != (node.port != 0))) return false;
  }
  for (auto* text : {&out.master_name, &out.user, &out.password, &out.sentinel_user, &out.sentinel_password}) {
    if (!get_bounded(reader, *text, kMaxStoreSecretBytes)) return false;
  }
  out.database = reader.get<uint32_t>();
  if (!get_bounded(reader, out.prefix, kMaxStoreHostBytes)) return false;
  out.timeout_ms = reader.get<uint32_t>();
  if (!get_bool(reader, out.tls) || !get_bool(reader, out.tls_client_certificate)) return false;
  if (!get_bounded(reader, out.tls_server_name, kMaxStoreHostBytes)) return false;
  return close_reader(reader) && out.timeout_ms > 0 && (out.tls || !out.tls_client_certificate) &&
         (out.kind == StoreBackendKind::redis ? out.nodes.size() == 1 : !out.master_name.empty());
}

std::vector<uint8_t> encode(const StoreDial& message) {
  auto writer = start(MessageType::store_dial);
  writer.put(message.id);
  writer.put(static_cast<uint8_t>(message.target));
  writer.put(message.node);
  writer.put_string(message.host);
  writer.put(message.port);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, StoreDial& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::store_dial)) return false;
  out.id = reader.get<uint32_t>();
  auto target = reader.get<uint8_t>();
  out.node = reader.get<uint32_t>();
  if (!get_bounded(reader, out.host, kMaxStoreHostBytes)) return false;
  out.port = reader.get<uint16_t>();
  if (!close_reader(reader)) return false;
  if (target == static_cast<uint8_t>(StoreDialTarget::node)) {
    out.target = StoreDialTarget::node;
    return out.host.empty() && out.port == 0;
  }
  if (target == static_cast<uint8_t>(StoreDialTarget::address)) {
    out.target = StoreDialTarget::address;
    return out.node == 0 && !out.host.empty() && out.port != 0;
  }
  return false;
}

std::vector<uint8_t> encode(const StoreDialed& message) {
  auto writer = start(MessageType::store_dialed);
  writer.put(message.id);
  writer.put_string(message.error);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, StoreDialed& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::store_dialed)) return false;
  out.id = reader.get<uint32_t>();
  return get_bounded(reader, out.error, kMaxStoreStateTextBytes) && close_reader(reader);
}

std::vector<uint8_t> encode(const StoreBackendState& message) {
  auto writer = start(MessageType::store_backend_state);
  writer.put(static_cast<uint8_t>(message.state));
  writer.put(message.since_ms);
  writer.put_string(message.address);
  writer.put_string(message.error);
  writer.put(message.outages);
  writer.put(message.failovers);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, StoreBackendState& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::store_backend_state)) return false;
  auto state = reader.get<uint8_t>();
  if (state < static_cast<uint8_t>(StoreBackendStatus::connecting) || state > static_cast<uint8_t>(StoreBackendStatus::down)) {
    return false;
  }
  out.state = static_cast<StoreBackendStatus>(state);
  out.since_ms = reader.get<uint64_t>();
  if (!get_bounded(reader, out.address, kMaxStoreStateTextBytes) || !get_bounded(reader, out.error, kMaxStoreStateTextBytes)) {
    return false;
  }
  out.outages = reader.get<uint64_t>();
  out.failovers = reader.get<uint64_t>();
  return close_reader(reader);
}

namespace {

// An error code as Node spells them: upper-case letters, digits and '_'.
bool valid_code(std::string_view code) {
  if (code.size() > kMaxEgressCodeBytes) return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool valid_egress_host(std::string_view host) {
  if (host.empty() || host.size() > kMaxEgressHostBytes) return false;
  return std::all_of(host.begin(), host.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// An optional address: a presence byte, then the address.
void put_optional_address(WireWriter& writer, const common::SocketAddress& address) {
  writer.put(static_cast<uint8_t>(address.valid()));
  if (address.valid()) put_address(writer, address);
}

bool get_optional_address(WireReader& reader, common::SocketAddress& out) {
  bool present = false;
  if (!get_bool(reader, present)) return false;
  if (!present) return true;
  out = get_address(reader);
  return out.valid();
}

}  // namespace

std::vector<uint8_t> encode(const EgressConnect& message) {
  auto writer = start(MessageType::egress_connect);
  writer.put(message.request_id);
  writer.put_string(message.host);
  writer.put(message.port);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, EgressConnect& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::egress_connect)) return false;
  out.request_id = reader.get<uint32_t>();
  out.host = reader.get_string();
  out.port = reader.get<uint16_t>();
  return close_reader(reader) && valid_egress_host(out.host) && out.port != 0;
}

std::vector<uint8_t> encode(const EgressConnected& message) {
  auto writer = start(MessageType::egress_connected);
  writer.put(message.request_id);
  writer.put_string(message.code);
  put_optional_address(writer, message.remote);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, EgressConnected& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::egress_connected)) return false;
  out.request_id = reader.get<uint32_t>();
  out.code = reader.get_string();
  if (!reader.ok() || !get_optional_address(reader, out.remote)) return false;
  return close_reader(reader) && valid_code(out.code);
}

std::vector<uint8_t> encode(const EgressLookup& message) {
  auto writer = start(MessageType::egress_lookup);
  writer.put(message.request_id);
  writer.put_string(message.host);
  writer.put(message.family);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, EgressLookup& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::egress_lookup)) return false;
  out.request_id = reader.get<uint32_t>();
  out.host = reader.get_string();
  out.family = reader.get<uint8_t>();
  return close_reader(reader) && valid_egress_host(out.host) &&
         (out.family == 0 || out.family == 4 || out.family == 6);
}

std::vector<uint8_t> encode(const EgressLookupResult& message) {
  auto writer = start(MessageType::egress_lookup_result);
  writer.put(message.request_id);
  writer.put_string(message.code);
  writer.put(static_cast<uint32_t>(message.addresses.size()));
  for (const auto& address : message.addresses) put_address(writer, address);
  return finish(writer);
}

bool decode(std::span<const uint8_t> message, EgressLookupResult& out) {
  WireReader reader(message);
  if (!open_reader(reader, MessageType::egress_lookup_result)) return false;
  out.request_id = reader.get<uint32_t>();
  out.code = reader.get_string();
  auto count = reader.get<uint32_t>();
  if (!reader.ok() || count > kMaxLookupAddresses) return false;
  out.addresses.clear();
  for (uint32_t i = 0; i < count; ++i) {
    auto address = get_address(reader);
    if (!address.valid()) return false;
    out.addresses.push_back(address);
  }
  return close_reader(reader) && valid_code(out.code);
}

DatagramBatch::DatagramBatch(MessageType type) : type_(type) { clear(); }

void DatagramBatch::clear() {
  writer_.clear();
  writer_.put(static_cast<uint16_t>(type_));
  writer_.put(uint32_t{0});
  count_ = 0;
}

bool DatagramBatch::add(const common::SocketAddress& peer, std::span<const uint8_t> payload) {
  constexpr size_t kPerDatagramOverhead = 1 + 16 + 2 + 4;
  if (writer_.size() + kPerDatagramOverhead + payload.size() > kMaxMessageBytes) return false;
  put_address(writer_, peer);
  writer_.put_bytes(payload);
  writer_.patch(sizeof(uint16_t), ++count_);
  return true;
}

}  // namespace ipc
