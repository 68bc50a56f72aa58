#pragma once
// Messages on the supervisor <-> worker channel, and on the supervisor ->
// store control channel (201..). Each message starts with its MessageType
// (u16); the layout of each body is defined only here.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/socket_address.h"
#include "ipc/wire.h"

namespace ipc {

enum class MessageType : uint16_t {
  // supervisor -> worker
  worker_init = 1,  // fds: store command connection, store subscription connection
  connection = 2,   // fd: the accepted, screened TCP socket
  datagrams = 3,    // a batch of UDP datagrams from screened sources
  worker_stop = 4,  // unload or shutdown: abort ctx.signal, await close(ctx), drain
  store_connections = 5,  // fds: new store connections (command, subscription): the store restarted
  tls_update = 6,         // new TLS material (certificates rotated on disk), for new connections
  tls_certificate = 7,    // an on-demand certificate, or why there is none
  egress_connected = 8,   // the answer to egress_connect; fd: the connected socket, when it connected
  egress_lookup_result = 9,  // the answer to egress_lookup: the admitted addresses, or why none
  // worker -> supervisor
  worker_ready = 101,   // module loaded, exports checked, open(ctx) finished
  worker_failed = 102,  // could not start (or is giving up); the reason goes to status
  replies = 103,        // a batch of UDP replies to send from the handler's port
  seccomp_violation = 104,  // sent raw by the SIGSYS handler (sandbox/violation_report.h)
  worker_sandbox = 105,     // what the worker's confinement achieved
  tls_stats = 106,          // handshakes completed and failed by reason, sent when they change
  tls_certificate_request = 107,  // on-demand: a certificate for a name and the worker's key
  store_reconnect = 108,          // its store connections broke: it asks for new ones (store_connections)
  modules_loaded = 109,           // handler files a dynamic import() read after it was ready
  egress_connect = 110,           // handler code asks for an outbound connection (docs/egress.md)
  egress_lookup = 111,            // dns.lookup: the supervisor resolves, the allow list filters
  // supervisor -> store (portbroker-store --control-fd)
  store_scope = 201,         // add or update a tenant's scope; fd, when new: its listening socket
  store_scope_remove = 202,  // remove a scope: its listener and clients close, its keys stay
  // supervisor -> store relay (portbroker-store --relay; docs/cluster.md)
  store_backend = 203,  // the Redis/Valkey backend to relay to; fds: its TLS material (sealed memfds)
  store_dialed = 204,   // the answer to a store_dial; fd: the connected socket, when it connected
  // store relay -> supervisor
  store_dial = 251,           // connect to a backend node for the relay (it has no network of its own)
  store_backend_state = 252,  // the backend went up or down: for status, metrics and the log
};

// Exit statuses a worker ends with when it stops itself, so the supervisor
// can say why even if the worker_failed report did not get through.
enum class WorkerExit : int {
  engine_stopped = 70,  // out of memory in the engine, or an uncatchable error
  cpu_limit = 71,       // the CPU watchdog stopped a callback that did not yield
  memory_limit = 72,    // resident memory went over worker.memory_mb
};
// "the CPU watchdog stopped it", or nullptr for any other status.
const char* worker_exit_meaning(int status);

std::optional<MessageType> peek_type(std::span<const uint8_t> message);

struct WorkerInit {
  std::string handler_name;
  std::string tenant;        // labels its log lines; empty for the operator's handlers
  std::string module_file;   // entry module, relative to handlers_dir
  std::string handlers_dir;  // absolute path
  std::string transport;     // "tcp" or "udp"
  uint16_t port = 0;
  std::string log_level;
  uint32_t open_timeout_ms = 0;
  // Confinement (sandbox::Config) and the engine's bounds.
  bool sandbox = true;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t outer_uid = 0;
  uint32_t outer_gid = 0;
  uint64_t open_files = 0;
  uint64_t processes = 0;
  uint64_t address_space_bytes = 0;
  uint64_t heap_bytes = 0;
  uint64_t memory_bytes = 0;  // resident memory limit (0: none)
  uint32_t cpu_limit_ms = 0;
  // TLS termination (JSON: PEM texts and options, see supervisor/tls_material.h);
  // empty for plaintext.
  std::string tls_json;
  // `portbrokerctl check`: confine as always, compile and link the handler
  // without running any of it, answer ready or failed, and exit.
  bool check_only = false;
  // The manifest may connect somewhere: load fetch()'s HTTP client
  // (worker/curl_library.h). Without it fetch() can only be refused.
  bool http_client = false;
};

struct TlsUpdate {
  std::string tls_json;
};

// Everything below that a worker sends is decoded into typed, bounded fields
// here: a worker runs untrusted code, so the supervisor never reads a
// free-form document from it. A message outside these bounds is malformed,
// and a malformed message ends the worker.
inline constexpr size_t kMaxReportTextBytes = 1024;   // one reason, note, namespace name
inline constexpr size_t kMaxReportEntries = 32;       // entries of one list
inline constexpr size_t kMaxTlsFailureReasonBytes = 64;
inline constexpr size_t kMaxTlsHostNameBytes = 253;
inline constexpr size_t kMaxPublicKeyPemBytes = 4096;
inline constexpr size_t kMaxFailureReasonBytes = 64 * 1024;

// TLS handshakes since the worker's previous report.
struct TlsStats {
  struct Failure {
    std::string reason;  // printable ASCII, 1..kMaxTlsFailureReasonBytes
    uint64_t count = 0;
    bool operator==(const Failure&) const = default;
  };
  uint64_t handshakes = 0;
  std::vector<Failure> failures;  // at most kMaxReportEntries, reasons distinct
  bool operator==(const TlsStats&) const = default;
};

// On-demand TLS: the worker asks for a certificate for `name`, made for its
// own key. One may be outstanding per worker at a time.
struct TlsCertificateRequest {
  std::string name;            // as the client sent it in SNI (checked by the supervisor)
  std::string public_key_pem;  // at most kMaxPublicKeyPemBytes
  bool operator==(const TlsCertificateRequest&) const = default;
};

// The answer: a certificate, or why there is none.
struct TlsCertificate {
  std::string name;
  std::string cert_pem;  // empty when refused
  std::string error;     // why it was refused
  bool permanent = false;  // the name will never get one: stop asking
  bool operator==(const TlsCertificate&) const = default;
};

// What the worker's confinement achieved, sent once before any handler code runs.
struct WorkerSandbox {
  bool confined = false;
  std::string reason;  // why it is not confined (the configuration disabled it)
  uint32_t uid = 0;    // as the host sees them
  uint32_t gid = 0;
  std::vector<std::string> namespaces;
  bool minimal_root = false;
  bool seccomp = false;
  bool no_new_privs = false;
  bool no_capabilities = false;
  uint64_t open_files = 0;
  uint64_t processes = 0;
  uint64_t address_space_bytes = 0;
  std::vector<std::string> missing;  // layers that could not be built, with the reason
  std::vector<std::string> notes;
  bool operator==(const WorkerSandbox&) const = default;
};

struct SeccompViolation {
  uint32_t syscall_nr = 0;
};

// The local address is not sent: the worker asks its socket when a handler
// reads it, which most never do.
// Bounds on what a PROXY protocol header passes to the handler (the parser in
// policy/proxy_header.h holds headers to the same).
inline constexpr size_t kMaxProxyTextBytes = 255;  // authority, ALPN, TLS version and CN
inline constexpr size_t kMaxProxyUniqueIdBytes = 128;

// How the client reached the balancer, when it spoke TLS to it (PP2_TYPE_SSL).
struct ProxySsl {
  bool client_certificate = false;  // it presented one (on this connection or its session)
  bool verified = false;            // ... and the balancer verified it
  std::string version;              // "TLSv1.3"; empty when not sent
  std::string common_name;          // of the client certificate; empty when not sent
  bool operator==(const ProxySsl&) const = default;
};

// What a trusted balancer's PROXY header said, beyond the client's address
// (which is ConnectionHandoff::remote): `conn.proxy` in the handler.
struct ProxyInfo {
  uint8_t version = 0;                // 1 or 2
  common::SocketAddress balancer;     // the trusted peer the connection came through
  common::SocketAddress destination;  // where the client connected, as declared; empty when not declared
  std::string authority;              // v2 TLVs; empty when not sent
  std::string alpn;
  std::vector<uint8_t> unique_id;
  std::optional<ProxySsl> ssl;
};

struct ConnectionHandoff {
  uint64_t id = 0;
  common::SocketAddress remote;    // the client: the socket's peer, or what a trusted balancer declared
  std::optional<ProxyInfo> proxy;  // set for connections through a trusted balancer
};

struct WorkerStop {
  uint32_t close_timeout_ms = 0;
  uint32_t drain_timeout_ms = 0;
};

// No body: the two connections travel as the message's fds.
struct StoreConnections {};

// No body: a worker whose store connections failed asks for new ones.
struct StoreReconnect {};

struct ModuleFile {
  std::string path;   // relative to the handlers folder, normalised, no ".."
  std::string stamp;  // common::file_stamp of what was read; empty: it could not be opened
  bool operator==(const ModuleFile&) const = default;
};

// Bounds on what a worker may report about its modules.
inline constexpr uint32_t kMaxReportedModules = 4096;
inline constexpr size_t kMaxModulePathBytes = 4096;

// A plain relative path inside the handlers folder: what a worker may report.
bool valid_module_path(const std::string& path);

struct WorkerFailed {
  std::string reason;  // at most kMaxFailureReasonBytes
  // The handler files it tried to load, so the supervisor retries once one
  // of them changes (a broken import fixed, a missing one created).
  std::vector<ModuleFile> modules;
};

// Handler files a dynamic import() read after the worker was ready.
struct ModulesLoaded {
  std::vector<ModuleFile> modules;
};

struct WorkerReady {
  // The module's `access` export as JSON text; empty when it has none.
  std::string access_json;
  // Every handler file the worker loaded (entry and imports), so the
  // supervisor can tell when any of them changes.
  std::vector<ModuleFile> modules;
};

// Egress (docs/egress.md). The worker names a destination as handler code
// wrote it; the supervisor resolves, checks every answer against the
// handler's policy, connects, and answers with the connected socket or a
// Node-style error code. Requests carry a worker-chosen id that the answer
// repeats; the supervisor bounds how many may be outstanding.
inline constexpr size_t kMaxEgressHostBytes = 255;  // a name (253) or a bracketed IPv6 address
inline constexpr size_t kMaxEgressCodeBytes = 32;
inline constexpr size_t kMaxLookupAddresses = 32;

struct EgressConnect {
  uint32_t request_id = 0;
  std::string host;  // 1..kMaxEgressHostBytes printable ASCII; checked by policy::parse_egress_host
  uint16_t port = 0;  // 1..65535
  bool operator==(const EgressConnect&) const = default;
};

struct EgressConnected {
  uint32_t request_id = 0;
  // Empty when connected (the socket travels as the message's one fd);
  // otherwise a Node error code: EACCES (not allowed by the policy), EAGAIN
  // (a limit), ENOTFOUND, ETIMEDOUT, ECONNREFUSED, ...
  std::string code;
  common::SocketAddress remote;  // the address connected to (or refused); may be empty
};

struct EgressLookup {
  uint32_t request_id = 0;
  std::string host;
  uint8_t family = 0;  // 0 (any), 4 or 6
  bool operator==(const EgressLookup&) const = default;
};

struct EgressLookupResult {
  uint32_t request_id = 0;
  std::string code;  // empty: found
  std::vector<common::SocketAddress> addresses;  // at most kMaxLookupAddresses, port 0
};

// A tenant's part of the store (store/commands.h): its keys are
// `<name>:<key>`, charged to a quota of `max_bytes`. Sent for a new scope
// with one fd, the listening socket of <run-dir>/tenants/<name>/store.sock;
// for a scope the store has, without one (a new quota), or with one that
// replaces its listener (the socket was made anew). Layout: name (u32
// length, bytes), max_bytes (u64). The name is a tenant's
// (policy::tenant_name_valid, checked by the store); here only its length.
inline constexpr size_t kMaxStoreScopeNameBytes = 32;
struct StoreScope {
  std::string name;
  uint64_t max_bytes = 0;
  bool operator==(const StoreScope&) const = default;
};

// Closes the scope's listener and clients; its keys stay, reachable through
// the unscoped socket. No fds. Layout: name (u32 length, bytes).
struct StoreScopeRemove {
  std::string name;
  bool operator==(const StoreScopeRemove&) const = default;
};

// Where a backend node listens, as the supervisor dials it: a host (a name
// or an IP literal) and port, or a Unix socket's path.
inline constexpr size_t kMaxStoreHostBytes = 255;
inline constexpr size_t kMaxStoreNodes = 16;
inline constexpr size_t kMaxStoreSecretBytes = 4096;      // a password, a user name, a master's name
inline constexpr size_t kMaxStoreStateTextBytes = 1024;   // an error or address in a state report
struct StoreNode {
  std::string host;
  uint16_t port = 0;
  std::string unix_path;
  bool operator==(const StoreNode&) const = default;
};

// The backend the relay serves from (policy::StoreBackendConfig, with the
// files read): sent once to each relay process, first on its control
// channel. Carries the passwords, so it is never logged. With `tls`, the
// message carries one fd, a sealed memfd holding the CA bundle (PEM), and
// with `tls_client_certificate` two more: the certificate and its key.
// Layout: kind (u8: 1 redis, 2 sentinel), nodes (u32 count, then host,
// port u16, unix_path each), master_name, user, password, sentinel_user,
// sentinel_password, database (u32), prefix, timeout_ms (u32), tls (bool),
// tls_client_certificate (bool), tls_server_name.
enum class StoreBackendKind : uint8_t { redis = 1, sentinel = 2 };
struct StoreBackend {
  StoreBackendKind kind = StoreBackendKind::redis;
  std::vector<StoreNode> nodes;  // redis: the server; sentinel: the sentinels
  std::string master_name;
  std::string user;
  std::string password;
  std::string sentinel_user;
  std::string sentinel_password;
  uint32_t database = 0;
  std::string prefix;
  uint32_t timeout_ms = 0;
  bool tls = false;
  bool tls_client_certificate = false;
  std::string tls_server_name;
  bool operator==(const StoreBackend&) const = default;
};

// The relay asks for a connection: to a configured node (`node`, an index
// into StoreBackend::nodes), or, with Sentinel, to the master's address a
// sentinel reported (`host`, `port`). Layout: id (u32), target (u8: 0
// node, 1 address), node (u32), host, port (u16). A field its target does
// not use is zero (or empty).
enum class StoreDialTarget : uint8_t { node = 0, address = 1 };
struct StoreDial {
  uint32_t id = 0;
  StoreDialTarget target = StoreDialTarget::node;
  uint32_t node = 0;
  std::string host;
  uint16_t port = 0;
  bool operator==(const StoreDial&) const = default;
};

// The supervisor's answer: with one fd (the connected socket) and no error,
// or without an fd and why. Layout: id (u32), error.
struct StoreDialed {
  uint32_t id = 0;
  std::string error;
  bool operator==(const StoreDialed&) const = default;
};

// The backend's state as the relay sees it, sent on every change. Layout:
// state (u8: 1 connecting, 2 up, 3 down), since_ms (u64, wall clock, ms
// since the epoch), address, error, outages (u64), failovers (u64).
enum class StoreBackendStatus : uint8_t { connecting = 1, up = 2, down = 3 };
// Its name in logs, INFO and status.
inline const char* store_backend_status_name(StoreBackendStatus status) {
  switch (status) {
    case StoreBackendStatus::connecting: return "connecting";
    case StoreBackendStatus::up: return "up";
    case StoreBackendStatus::down: return "down";
  }
  return "unknown";
}
struct StoreBackendState {
  StoreBackendStatus state = StoreBackendStatus::connecting;
  uint64_t since_ms = 0;
  std::string address;  // the node in use (up) or last tried
  std::string error;    // the last error; kept while up, for status
  uint64_t outages = 0;    // times it went down
  uint64_t failovers = 0;  // times the master moved to another address
  bool operator==(const StoreBackendState&) const = default;
};

std::vector<uint8_t> encode(const WorkerInit& message);
std::vector<uint8_t> encode(const ConnectionHandoff& message);
std::vector<uint8_t> encode(const WorkerStop& message);
std::vector<uint8_t> encode(const WorkerFailed& message);
std::vector<uint8_t> encode(const WorkerReady& message);
std::vector<uint8_t> encode(const ModulesLoaded& message);
std::vector<uint8_t> encode(const WorkerSandbox& message);
std::vector<uint8_t> encode(const StoreConnections& message);
std::vector<uint8_t> encode(const StoreReconnect& message);
std::vector<uint8_t> encode(const TlsUpdate& message);
std::vector<uint8_t> encode(const TlsStats& message);
std::vector<uint8_t> encode(const TlsCertificate& message);
std::vector<uint8_t> encode(const TlsCertificateRequest& message);
std::vector<uint8_t> encode(const StoreScope& message);
std::vector<uint8_t> encode(const EgressConnect& message);
std::vector<uint8_t> encode(const EgressConnected& message);
std::vector<uint8_t> encode(const EgressLookup& message);
std::vector<uint8_t> encode(const EgressLookupResult& message);
std::vector<uint8_t> encode(const StoreScopeRemove& message);
std::vector<uint8_t> encode(const StoreBackend& message);
std::vector<uint8_t> encode(const StoreDial& message);
std::vector<uint8_t> encode(const StoreDialed& message);
std::vector<uint8_t> encode(const StoreBackendState& message);

// Each decode() returns false when the message is not of that type or malformed.
bool decode(std::span<const uint8_t> message, WorkerInit& out);
bool decode(std::span<const uint8_t> message, ConnectionHandoff& out);
bool decode(std::span<const uint8_t> message, WorkerStop& out);
bool decode(std::span<const uint8_t> message, StoreConnections& out);
bool decode(std::span<const uint8_t> message, StoreReconnect& out);
bool decode(std::span<const uint8_t> message, TlsUpdate& out);
bool decode(std::span<const uint8_t> message, TlsStats& out);
bool decode(std::span<const uint8_t> message, TlsCertificate& out);
bool decode(std::span<const uint8_t> message, TlsCertificateRequest& out);
bool decode(std::span<const uint8_t> message, WorkerFailed& out);
bool decode(std::span<const uint8_t> message, WorkerReady& out);
bool decode(std::span<const uint8_t> message, ModulesLoaded& out);
bool decode(std::span<const uint8_t> message, WorkerSandbox& out);
bool decode(std::span<const uint8_t> message, SeccompViolation& out);
bool decode(std::span<const uint8_t> message, StoreScope& out);
bool decode(std::span<const uint8_t> message, EgressConnect& out);
bool decode(std::span<const uint8_t> message, EgressConnected& out);
bool decode(std::span<const uint8_t> message, EgressLookup& out);
bool decode(std::span<const uint8_t> message, EgressLookupResult& out);
bool decode(std::span<const uint8_t> message, StoreScopeRemove& out);
bool decode(std::span<const uint8_t> message, StoreBackend& out);
bool decode(std::span<const uint8_t> message, StoreDial& out);
bool decode(std::span<const uint8_t> message, StoreDialed& out);
bool decode(std::span<const uint8_t> message, StoreBackendState& out);

// Builds one datagrams or replies message from many (address, payload) pairs,
// so a burst costs one channel write instead of one per datagram.
class DatagramBatch {
 public:
  explicit DatagramBatch(MessageType type);
  // False when the datagram would not fit; the batch is unchanged then.
  bool add(const common::SocketAddress& peer, std::span<const uint8_t> payload);
  uint32_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::span<const uint8_t> bytes() const { return writer_.bytes(); }
  void clear();

 private:
  MessageType type_;
  WireWriter writer_;
  uint32_t count_ = 0;
};

// Calls visit(peer, payload) for each datagram in a batch of the given type.
// Returns false if the message is malformed (the datagrams before that point
// have been visited).
template <typename Visit>
bool for_each_datagram(std::span<const uint8_t> message, MessageType type, Visit&& visit);

// Address encoding shared by the messages above: family, 16 address bytes, port.
void put_address(WireWriter& writer, const common::SocketAddress& address);
common::SocketAddress get_address(WireReader& reader);

template <typename Visit>
bool for_each_datagram(std::span<const uint8_t> message, MessageType type, Visit&& visit) {
  WireReader reader(message);
  if (reader.get<uint16_t>() != static_cast<uint16_t>(type)) return false;
  auto count = reader.get<uint32_t>();
  for (uint32_t i = 0; i < count && reader.ok(); ++i) {
    common::SocketAddress peer = get_address(reader);
    auto payload = reader.get_bytes();
    if (!reader.ok() || !peer.valid()) return false;
    visit(peer, payload);
  }
  return reader.ok() && reader.at_end();
}

}  // namespace ipc
