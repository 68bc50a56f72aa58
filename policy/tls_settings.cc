#include "policy/tls_settings.h"

#include <algorithm>
#include <cctype>

#include "common/path_parts.h"
#include "policy/json_fields.h"

namespace policy {

bool tls_host_name(const std::string& name) {
  std::string_view rest = name;
  if (rest.empty() || rest.size() > 253) return false;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('.', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view label = rest.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

namespace {

constexpr size_t kMaxCertPairs = 64;
constexpr size_t kMaxNames = 256;
constexpr uint64_t kMaxHandshakeTimeoutMs = 300000;

std::string read_absolute_file(const nlohmann::json& value, const std::string& path) {
  std::string text = read_string(value, path);
  if (text.empty() || text.front() != '/') throw JsonFieldError(path, "must be an absolute path to a PEM file");
  if (!normal_absolute_path(text)) {
    throw JsonFieldError(path, "'" + text + "' must be a plain absolute path (no '.', '..' or empty parts)");
  }
  return text;
}

}  // namespace

TlsSettings parse_tls_settings(const nlohmann::json& tls, const std::string& path) {
  require_object(tls, path);
  reject_unknown_fields(tls, path,
                        {"enabled", "cert", "key", "certs", "names", "minVersion", "alpn", "clientCa", "clientAuth",
                         "handshakeTimeout"});
  TlsSettings settings;
  if (!tls.contains("enabled")) throw JsonFieldError(child_path(path, "enabled"), "is required");
  settings.enabled = read_bool(tls["enabled"], child_path(path, "enabled"));
  if (!settings.enabled) return settings;

  bool has_cert = tls.contains("cert");
  bool has_certs = tls.contains("certs");
  if (has_cert && has_certs) throw JsonFieldError(child_path(path, "certs"), "use either cert and key, or certs");
  if (!has_cert && !has_certs) {
    throw JsonFieldError(child_path(path, "cert"), "is required: a PEM file, \"on-demand\", or certs: [...]");
  }
  if (has_cert && read_string(tls["cert"], child_path(path, "cert")) == "on-demand") {
    settings.on_demand = true;
    if (tls.contains("key")) throw JsonFieldError(child_path(path, "key"), "does not go with on-demand certificates");
    if (!tls.contains("names")) {
      throw JsonFieldError(child_path(path, "names"), "is required with on-demand certificates (the names it may issue for)");
    }
    const auto& names = tls["names"];
    std::string names_path = child_path(path, "names");
    if (!names.is_array() || names.empty()) throw JsonFieldError(names_path, "must be a non-empty array of names");
    if (names.size() > kMaxNames) throw JsonFieldError(names_path, "has more than " + std::to_string(kMaxNames) + " names");
    for (size_t i = 0; i < names.size(); ++i) {
      std::string item_path = names_path + "/" + std::to_string(i);
      std::string name = read_string(names[i], item_path);
      if (!tls_name_pattern(name)) {
        throw JsonFieldError(item_path, "'" + name +
                                            "' is not a lower-case DNS name or \"*.<domain>\" (with a domain of two "
                                            "labels or more)");
      }
      settings.names.push_back(name);
    }
  } else {
    if (tls.contains("names")) throw JsonFieldError(child_path(path, "names"), "goes with \"cert\": \"on-demand\" only");
    if (has_cert) {
      if (!tls.contains("key")) throw JsonFieldError(child_path(path, "key"), "is required with cert");
      settings.certs.push_back({read_absolute_file(tls["cert"], child_path(path, "cert")),
                                read_absolute_file(tls["key"], child_path(path, "key")), path});
    } else {
      if (tls.contains("key")) throw JsonFieldError(child_path(path, "key"), "goes with cert, not certs");
      const auto& list = tls["certs"];
      std::string list_path = child_path(path, "certs");
      if (!list.is_array() || list.empty()) throw JsonFieldError(list_path, "must be a non-empty array of {cert, key}");
      if (list.size() > kMaxCertPairs) {
        throw JsonFieldError(list_path, "has more than " + std::to_string(kMaxCertPairs) + " pairs");
      }
      for (size_t i = 0; i < list.size(); ++i) {
        std::string item_path = list_path + "/" + std::to_string(i);
        require_object(list[i], item_path);
        reject_unknown_fields(list[i], item_path, {"cert", "key"});
        for (const char* field : {"cert", "key"}) {
          if (!list[i].contains(field)) throw JsonFieldError(child_path(item_path, field), "is required");
        }
        settings.certs.push_back({read_absolute_file(list[i]["cert"], child_path(item_path, "cert")),
                                  read_absolute_file(list[i]["key"], child_path(item_path, "key")), item_path});
      }
    }
  }
  if (tls.contains("minVersion")) {
    std::string version = read_string(tls["minVersion"], child_path(path, "minVersion"));
    if (version == "1.0" || version == "1.1") {
      throw JsonFieldError(child_path(path, "minVersion"), "TLS " + version + " is refused; use \"1.2\" or \"1.3\"");
    }
    if (version != "1.2" && version != "1.3") throw JsonFieldError(child_path(path, "minVersion"), "must be \"1.2\" or \"1.3\"");
    settings.min_version = version;
  }
  if (tls.contains("alpn")) {
    const auto& list = tls["alpn"];
    std::string list_path = child_path(path, "alpn");
    if (!list.is_array() || list.empty() || list.size() > 16) {
      throw JsonFieldError(list_path, "must be an array of 1 to 16 protocol names");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::string item_path = list_path + "/" + std::to_string(i);
      std::string protocol = read_string(list[i], item_path);
      if (protocol.empty() || protocol.size() > 255) throw JsonFieldError(item_path, "must be 1 to 255 bytes");
      settings.alpn.push_back(protocol);
    }
  }
  if (tls.contains("clientCa")) {
    settings.client_ca = read_absolute_file(tls["clientCa"], child_path(path, "clientCa"));
    settings.client_cert_required = true;
  }
  if (tls.contains("clientAuth")) {
    std::string mode = read_string(tls["clientAuth"], child_path(path, "clientAuth"));
    if (mode != "required" && mode != "optional") {
      throw JsonFieldError(child_path(path, "clientAuth"), "must be \"required\" or \"optional\"");
    }
    if (settings.client_ca.empty()) throw JsonFieldError(child_path(path, "clientAuth"), "needs clientCa");
    settings.client_cert_required = mode == "required";
  }
  if (tls.contains("handshakeTimeout")) {
    const auto& value = tls["handshakeTimeout"];
    std::string timeout_path = child_path(path, "handshakeTimeout");
    if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() * 1000 > kMaxHandshakeTimeoutMs) {
      throw JsonFieldError(timeout_path, "must be a number of seconds, more than 0 and at most 300");
    }
    settings.handshake_timeout_ms = static_cast<uint32_t>(std::max(1.0, value.get<double>() * 1000));
  }
  return settings;
}

bool normal_absolute_path(const std::string& path) {
  if (path.empty() || path.front() != '/') return false;
  return path == "/" || common::plain_path_parts(std::string_view(path).substr(1));
}

bool path_within(const std::string& path, const std::string& parent) {
  if (parent == "/") return true;
  return path == parent || (path.size() > parent.size() && path.compare(0, parent.size(), parent) == 0 &&
                            path[parent.size()] == '/');
}

std::string key_dir_of(const std::string& file, const std::vector<std::string>& key_dirs) {
  for (const auto& dir : key_dirs) {
    if (file != dir && path_within(file, dir)) return dir;
  }
  return {};
}

bool tls_name_pattern(const std::string& name) {
  if (!name.starts_with("*.")) return tls_host_name(name);
  std::string domain = name.substr(2);
  return tls_host_name(domain) && domain.find('.') != std::string::npos;
}

std::string tls_sources_origin(const TlsSources& sources, const std::string& field) {
  if (sources.tenant.empty()) return "tls." + field + " in the broker's config";
  return "tenant " + sources.tenant + "'s tls." + field;
}

void check_tls_sources(const TlsSettings& settings, const TlsSources& sources, const std::string& path) {
  if (!settings.enabled) return;
  auto directories = [&] {
    if (sources.key_dirs.empty()) return "none are configured (" + tls_sources_origin(sources, "key_dirs") + ")";
    std::string list;
    for (const auto& dir : sources.key_dirs) list += (list.empty() ? "" : ", ") + dir;
    return tls_sources_origin(sources, "key_dirs") + ": " + list;
  };
  auto check_file = [&](const std::string& file, const std::string& field) {
    if (key_dir_of(file, sources.key_dirs).empty()) {
      throw JsonFieldError(field, "'" + file + "' is outside the key directories (" + directories() + ")");
    }
  };
  for (const auto& pair : settings.certs) {
    check_file(pair.cert, child_path(pair.field, "cert"));
    check_file(pair.key, child_path(pair.field, "key"));
  }
  if (!settings.client_ca.empty()) check_file(settings.client_ca, child_path(path, "clientCa"));
  for (size_t i = 0; i < settings.names.size(); ++i) {
    const std::string& name = settings.names[i];
    // A wildcard needs the same wildcard in the domains; an exact name may
    // also fall under a domain's wildcard.
    bool allowed = std::find(sources.domains.begin(), sources.domains.end(), name) != sources.domains.end() ||
                   (!name.starts_with("*.") && tls_name_allowed(sources.domains, name));
    if (!allowed) {
      std::string domains;
      for (const auto& domain : sources.domains) domains += (domains.empty() ? "" : ", ") + domain;
      throw JsonFieldError(child_path(path, "names") + "/" + std::to_string(i),
                           "'" + name + "' is not among the names this broker issues certificates for (" +
                               tls_sources_origin(sources, "domains") + ": " + (domains.empty() ? "none" : domains) + ")");
    }
  }
}

bool tls_name_allowed(const std::vector<std::string>& allowed, const std::string& name) {
  // Only plain host names: nothing else may reach a certificate.
  if (!tls_host_name(name)) return false;
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
    if (!entry.starts_with("*.")) return entry == name;
    std::string_view domain = std::string_view(entry).substr(1);  // ".example.com"
    if (name.size() <= domain.size() || !name.ends_with(domain)) return false;
    std::string_view label = std::string_view(name).substr(0, name.size() - domain.size());
    return label.find('.') == std::string_view::npos;
  });
}

namespace {
constexpr size_t kMaxKeyDirs = 64;
constexpr size_t kMaxDomains = 1024;
}  // namespace

TlsSources read_tls_sources(const nlohmann::json& tls, const std::string& tls_path) {
  require_object(tls, tls_path);
  reject_unknown_fields(tls, tls_path, {"key_dirs", "domains"});
  TlsSources sources;
  if (tls.contains("key_dirs")) {
    const auto& list = tls["key_dirs"];
    if (!list.is_array() || list.size() > kMaxKeyDirs) {
      throw JsonFieldError(child_path(tls_path, "key_dirs"), "must be an array of at most " + std::to_string(kMaxKeyDirs) + " folders");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::string path = child_path(tls_path, "key_dirs") + "/" + std::to_string(i);
      std::string dir = read_string(list[i], path);
      if (dir.empty() || dir.front() != '/') throw JsonFieldError(path, "must be an absolute path");
      if (!normal_absolute_path(dir)) throw JsonFieldError(path, "'" + dir + "' must be a plain absolute path");
      sources.key_dirs.push_back(dir);
    }
  }
  if (tls.contains("domains")) {
    const auto& list = tls["domains"];
    if (!list.is_array() || list.size() > kMaxDomains) {
      throw JsonFieldError(child_path(tls_path, "domains"), "must be an array of at most " + std::to_string(kMaxDomains) + " names");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::string path = child_path(tls_path, "domains") + "/" + std::to_string(i);
      std::string name = read_string(list[i], path);
      if (!tls_name_pattern(name)) {
        throw JsonFieldError(path, "'" + name +
                                       "' is not a lower-case host name or \"*.<domain>\" with a domain of two labels "
                                       "or more");
      }
      sources.domains.push_back(name);
    }
  }
  return sources;
}

}  // namespace policy
