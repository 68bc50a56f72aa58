#pragma once
// The `store` section of the broker config: which shared store backs
// ctx.shared. Without it the embedded store (portbroker-store) serves, as on
// one host. With it, a Redis or Valkey server does, reached through the
// store relay (docs/cluster.md):
//
//   "store": { "url": "rediss://portbroker@10.0.0.5:6379/0", "password_file": "/etc/portbroker/redis.pass",
//              "tls": { "ca": "/etc/portbroker/redis-ca.pem" }, "prefix": "pb:" }
//   "store": { "sentinels": ["10.0.0.1:26379", "10.0.0.2:26379"], "master": "mymaster",
//              "user": "portbroker", "password_file": "...", "sentinel_password_file": "..." }
//
// Pure: paths are checked for form only; the supervisor reads the files
// (supervisor/store/relay_backend.h). Errors are JsonFieldError naming the
// field, e.g. `/store/url: unsupported scheme "http" ...`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace policy {

inline constexpr uint16_t kRedisDefaultPort = 6379;
inline constexpr uint16_t kSentinelDefaultPort = 26379;
inline constexpr size_t kMaxStorePrefixBytes = 64;
inline constexpr size_t kMaxSentinels = 16;
inline constexpr uint32_t kMaxStoreDatabase = 65535;
inline constexpr uint32_t kDefaultStoreTimeoutMs = 2000;
// The CA bundle rediss:// verifies against unless the config names one.
inline constexpr std::string_view kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// Where a Redis, Valkey or Sentinel node listens: a host (a DNS name or an
// IP literal, without brackets) and port, or a Unix socket's path.
struct StoreAddress {
  std::string host;
  uint16_t port = 0;
  std::string unix_path;  // absolute; set for a Unix socket only

  bool is_unix() const { return !unix_path.empty(); }
  // "10.0.0.5:6379", "[2001:db8::1]:6379", "redis.example:6379", "/run/redis.sock"
  std::string to_string() const;
  bool operator==(const StoreAddress&) const = default;
};

// redis://[user@]host[:port][/db], rediss://... (TLS), or
// unix://[user@]/absolute/path[?db=N]. A password is never part of the URL:
// it comes from a root-only file.
struct StoreUrl {
  StoreAddress address;
  bool tls = false;
  std::string user;  // empty: the server's default user
  uint32_t database = 0;

  // The URL again, in its canonical form (parse_store_url(to_string()) gives
  // back the same StoreUrl).
  std::string to_string() const;
  bool operator==(const StoreUrl&) const = default;
};

// Returns nothing and sets `error` (without the field's path) for anything
// else.
std::optional<StoreUrl> parse_store_url(std::string_view text, std::string& error);

// "host:port", "[v6]:port", or a bare host (the default port).
std::optional<StoreAddress> parse_host_port(std::string_view text, uint16_t default_port, std::string& error);

// A host name as DNS allows it (letters, digits, '-', '_' between dots, at
// most 253 bytes) or an IP literal.
bool store_host_valid(std::string_view host);

struct StoreBackendConfig {
  enum class Kind { embedded, redis, sentinel };
  Kind kind = Kind::embedded;

  // redis: the server; sentinel: the sentinels and the master's name.
  StoreAddress server;
  std::vector<StoreAddress> sentinels;
  std::string master_name;

  // TLS to every node (rediss://, or `tls` with sentinels). The CA bundle
  // defaults to the system's; a client certificate is optional.
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // The name the server's certificate must carry; empty: the host the
  // relay connects to (the URL's, or the address a sentinel reports).
  std::string tls_server_name;

  // ACL user and password file of the data nodes, and of the sentinels.
  std::string user;
  std::string password_file;  // empty: no AUTH
  std::string sentinel_user;
  std::string sentinel_password_file;
  uint32_t database = 0;

  // Every key and channel on the backend starts with this; a tenant's with
  // `<prefix><tenant>:`.
  std::string prefix = "pb:";
  // Connecting, the handshake and each command's reply must finish within
  // this; past it a call rejects and the backend counts as down.
  uint32_t timeout_ms = kDefaultStoreTimeoutMs;

  bool external() const { return kind != Kind::embedded; }
};

// Reads the `store` object at `path` ("/store"). Throws JsonFieldError.
StoreBackendConfig read_store_backend(const nlohmann::json& value, std::string_view path);

}  // namespace policy
