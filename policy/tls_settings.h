#pragma once
// The manifest's `tls` object: where the certificates come from and how
// handshakes are negotiated. Parsed strictly, like the rest of the manifest;
// any doubt fails closed (the handler does not open).
//
//   {"enabled": true, "cert": "/etc/ssl/example/fullchain.pem", "key": "/etc/ssl/example/key.pem"}
//   {"enabled": true, "certs": [{"cert": ..., "key": ...}, ...]}        one pair per name, chosen by SNI
//   {"enabled": true, "cert": "on-demand", "names": ["example.com", "*.example.com"]}
//   options: "minVersion": "1.2" | "1.3", "alpn": ["h2", "http/1.1"],
//            "clientCa": "/path/ca.pem", "clientAuth": "required" | "optional",
//            "handshakeTimeout": seconds

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace policy {

struct TlsCertFiles {
  std::string cert;  // PEM: the certificate, then its chain
  std::string key;   // PEM private key
  // The JSON path the pair came from ("/tls" or "/tls/certs/2"), so an error
  // found later (outside the key directories, unreadable) names its field.
  std::string field;
  bool operator==(const TlsCertFiles&) const = default;
};

struct TlsSettings {
  bool enabled = false;
  std::vector<TlsCertFiles> certs;  // from files; empty when on_demand
  bool on_demand = false;           // issued by the broker's local CA for `names`
  std::vector<std::string> names;   // on-demand allow-list: exact names or "*.<domain>"
  std::string min_version = "1.2";  // "1.2" or "1.3"; older versions are refused
  std::vector<std::string> alpn;    // protocols the server accepts, in its order of preference
  std::string client_ca;            // mTLS: CA bundle client certificates are verified against
  bool client_cert_required = false;
  uint32_t handshake_timeout_ms = 10000;
  bool operator==(const TlsSettings&) const = default;
};

// `value` is the manifest's "tls" member, `path` its JSON path. File paths
// must be absolute and normal (no "." or ".." part, no empty part), so
// where a file lies can be decided from its path alone.
TlsSettings parse_tls_settings(const nlohmann::json& value, const std::string& path);

// What the broker's operator allows manifests: the directories key material
// may be read from, and the names on-demand certificates may be issued for
// (config `tls.key_dirs` and `tls.domains`, or a tenant's own).
struct TlsSources {
  std::vector<std::string> key_dirs;  // absolute, normal
  std::vector<std::string> domains;   // host names or "*.<domain of two labels or more>"
  // Whose allowance this is, for messages a folder writer reads: empty for
  // the broker's own section, else the tenant's name.
  std::string tenant = {};
  bool operator==(const TlsSources&) const = default;
};

// Where an allowance's `field` ("key_dirs", "domains") is set, in words:
// "tls.key_dirs in the broker's config" or "tenant bob's tls.key_dirs".
std::string tls_sources_origin(const TlsSources& sources, const std::string& field);

// The config's {"key_dirs", "domains"} object at JSON path `path` (the
// broker's "/tls", a tenant's "/tenants/<name>/tls").
TlsSources read_tls_sources(const nlohmann::json& value, const std::string& path);

// Throws JsonFieldError naming the first field of `settings` (read from
// `path`) that a manifest may not use under `sources`: a file outside every
// key directory, an on-demand name outside the domains.
void check_tls_sources(const TlsSettings& settings, const TlsSources& sources, const std::string& path = "/tls");

// The key directory `file` is in (the first of `key_dirs` that holds it), or
// empty. Lexical: both are absolute and normal.
std::string key_dir_of(const std::string& file, const std::vector<std::string>& key_dirs);

// Whether `parent` is `path` or one of its ancestors (both absolute, normal).
bool path_within(const std::string& path, const std::string& parent);

// An absolute path without "." or ".." parts, empty parts or a trailing "/".
bool normal_absolute_path(const std::string& path);

// A name on-demand certificates may be asked for: a host name, or
// "*.<domain>" where the domain has at least two labels ("*.com" is refused:
// it would cover every name under a public suffix).
bool tls_name_pattern(const std::string& name);

// A lower-case DNS host name: labels of letters, digits and hyphens, at most
// 253 bytes (no wildcard, no other character).
bool tls_host_name(const std::string& name);

// Whether `name` (a host name as above) is allowed by an on-demand allow-list
// entry: an exact name, or "*.<domain>" for exactly one label more.
bool tls_name_allowed(const std::vector<std::string>& allowed, const std::string& name);

}  // namespace policy
