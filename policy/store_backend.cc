#include "policy/store_backend.h"

#include <charconv>

#include "policy/ip_address.h"
#include "policy/json_fields.h"

namespace policy {
namespace {

// sockaddr_un's sun_path holds 108 bytes with the terminating NUL.
constexpr size_t kMaxUnixPathBytes = 107;
constexpr size_t kMaxUserBytes = 256;
constexpr size_t kMaxMasterNameBytes = 256;
constexpr uint32_t kMinTimeoutMs = 100;
constexpr uint32_t kMaxTimeoutMs = 60000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A canonical decimal number in [min, max]: digits only, no leading zero.
std::optional<uint32_t> parse_decimal(std::string_view text, uint32_t min, uint32_t max) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
  }
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < min || value > max) return std::nullopt;
  return static_cast<uint32_t>(value);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX-decodes a URL's user name; printable ASCII without spaces or '@' is all
// an ACL user name here may hold (it goes into AUTH and into logs).
std::optional<std::string> decode_user(std::string_view text, std::string& error) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        error = "the user name has a '%' not followed by two hex digits";
        return std::nullopt;
      }
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    out += c;
  }
  for (char c : out) {
    if (c <= 0x20 || c >= 0x7f) {
      error = "the user name may hold printable ASCII only, without spaces";
      return std::nullopt;
    }
  }
  if (out.empty()) {
    error = "the user name before '@' is empty";
    return std::nullopt;
  }
  if (out.size() > kMaxUserBytes) {
    error = "the user name is longer than " + std::to_string(kMaxUserBytes) + " bytes";
    return std::nullopt;
  }
  return out;
}

// What may stand in a URL's user name as it is (RFC 3986 unreserved and
// sub-delims, less ':' and '@'); everything else is %XX-encoded.
bool user_byte_plain(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
  return std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

std::string encode_user(std::string_view user) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : user) {
    if (user_byte_plain(c)) {
      out += c;
    } else {
      auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

bool host_label_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_';
}

bool user_valid(std::string_view user) {
  if (user.empty() || user.size() > kMaxUserBytes) return false;
  for (char c : user) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// "host[:port]" where host may be "[v6]".
std::optional<StoreAddress> parse_authority_host(std::string_view text, uint16_t default_port, std::string& error) {
  StoreAddress address;
  std::string_view host;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      error = "an IPv6 address must be closed with ']'";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    auto ip = IpAddress::parse(host);
    if (!ip || ip->is_v4) {
      error = "'" + std::string(host) + "' in brackets is not an IPv6 address";
      return std::nullopt;
    }
    if (!rest.empty() && rest.front() != ':') {
      error = "only ':port' may follow ']'";
      return std::nullopt;
    }
  } else {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    if (rest.find(':', 1) != std::string_view::npos) {
      error = "an IPv6 address needs brackets ([2001:db8::1]:6379)";
      return std::nullopt;
    }
  }
  if (host.empty()) {
    error = "the host is missing";
    return std::nullopt;
  }
  if (!store_host_valid(host)) {
    error = "'" + std::string(host) + "' is neither a host name nor an IP address";
    return std::nullopt;
  }
  address.host = std::string(host);
  address.port = default_port;
  if (!rest.empty()) {
    auto port = parse_decimal(rest.substr(1), 1, 65535);
    if (!port) {
      error = "the port '" + std::string(rest.substr(1)) + "' is not a number from 1 to 65535";
      return std::nullopt;
    }
    address.port = static_cast<uint16_t>(*port);
  }
  return address;
}

// "/N" (a database number), "/" or nothing.
std::optional<uint32_t> parse_database(std::string_view text, std::string& error) {
  if (text.empty()) return 0;
  auto number = parse_decimal(text, 0, kMaxStoreDatabase);
  if (!number) {
    error = "the database '" + std::string(text) + "' is not a number from 0 to " + std::to_string(kMaxStoreDatabase);
    return std::nullopt;
  }
  return number;
}

std::string read_absolute_file(const nlohmann::json& value, const std::string& path) {
  std::string text = read_string(value, path);
  if (text.empty() || text.front() != '/') throw JsonFieldError(path, "must be an absolute path");
  if (text.find('\0') != std::string::npos) throw JsonFieldError(path, "must not hold a NUL byte");
  return text;
}

}  // namespace

bool store_host_valid(std::string_view host) {
  if (host.empty()) return false;
  if (IpAddress::parse(host)) return true;
  if (host.size() > 253) return false;
  // Labels of 1-63 bytes between dots (a trailing dot is allowed, as in DNS).
  size_t label = 0;
  bool all_digits_or_dots = true;
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    if (c == '.') {
      if (label == 0 && i + 1 != host.size()) return false;
      if (label == 0 && i == 0) return false;
      label = 0;
      continue;
    }
    if (!host_label_byte(c)) return false;
    if (!is_digit(c)) all_digits_or_dots = false;
    if (++label > 63) return false;
  }
  // "10.0.0.256" is not a name: it is a broken address.
  return !all_digits_or_dots;
}

std::string StoreAddress::to_string() const {
  if (is_unix()) return unix_path;
  std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return text + ":" + std::to_string(port);
}

std::string StoreUrl::to_string() const {
  std::string text = address.is_unix() ? "unix://" : (tls ? "rediss://" : "redis://");
  if (!user.empty()) text += encode_user(user) + "@";
  if (address.is_unix()) {
    text += address.unix_path;
    if (database != 0) text += "?db=" + std::to_string(database);
    return text;
  }
  text += address.to_string();
  if (database != 0) text += "/" + std::to_string(database);
  return text;
}

std::optional<StoreUrl> parse_store_url(std::string_view text, std::string& error) {
  // A bare absolute path is a Unix socket, as redis-cli -s takes one.
  if (text.starts_with('/')) return parse_store_url("unix://" + std::string(text), error);
  StoreUrl url;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "must be a URL: redis://host:port/db, rediss://host:port/db, unix:///path or an absolute socket path";
    return std::nullopt;
  }
  std::string_view scheme = text.substr(0, scheme_end);
  std::string_view rest = text.substr(scheme_end + 3);
  bool unix_socket = scheme == "unix";
  if (scheme == "rediss") {
    url.tls = true;
  } else if (scheme != "redis" && !unix_socket) {
    std::string shown(scheme.substr(0, 32));
    for (char& c : shown) {
      if (c < 0x20 || c >= 0x7f || c == '"') c = '?';
    }
    error = "unsupported scheme \"" + shown + "\" (redis://, rediss:// or unix://)";
    return std::nullopt;
  }
  for (char c : rest) {
    if (c <= 0x20 || c >= 0x7f) {
      error = "must not hold spaces or control characters";
      return std::nullopt;
    }
  }
  if (rest.find('#') != std::string_view::npos) {
    error = "must not have a fragment ('#')";
    return std::nullopt;
  }
  // The authority ends at the first '/' or '?'; a unix:// URL's is only
  // the optional user ("unix://user@/path").
  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view after = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    if (userinfo.find(':') != std::string_view::npos) {
      error = "must not hold a password: put it in password_file, readable by root only";
      return std::nullopt;
    }
    auto user = decode_user(userinfo, error);
    if (!user) return std::nullopt;
    url.user = std::move(*user);
    authority = authority.substr(at + 1);
  }
  if (unix_socket) {
    if (!authority.empty()) {
      error = "a unix:// URL has no host: unix:///path/to/redis.sock";
      return std::nullopt;
    }
    size_t query = after.find('?');
    std::string_view path = after.substr(0, query);
    if (path.empty() || path.front() != '/') {
      error = "a unix:// URL needs an absolute socket path: unix:///path/to/redis.sock";
      return std::nullopt;
    }
    if (path.size() > kMaxUnixPathBytes) {
      error = "the socket path is longer than " + std::to_string(kMaxUnixPathBytes) + " bytes";
      return std::nullopt;
    }
    if (path.find('%') != std::string_view::npos) {
      error = "the socket path may not hold '%' escapes";
      return std::nullopt;
    }
    url.address.unix_path = std::string(path);
    if (query != std::string_view::npos) {
      std::string_view parameters = after.substr(query + 1);
      if (!parameters.starts_with("db=")) {
        error = "the only query parameter of a unix:// URL is db=N";
        return std::nullopt;
      }
      auto database = parse_database(parameters.substr(3), error);
      if (!database) return std::nullopt;
      url.database = *database;
    }
    return url;
  }
  auto address = parse_authority_host(authority, kRedisDefaultPort, error);
  if (!address) return std::nullopt;
  url.address = std::move(*address);
  if (after.find('?') != std::string_view::npos) {
    error = "must not have query parameters (the database is the path: redis://host:6379/2)";
    return std::nullopt;
  }
  if (!after.empty()) {
    auto database = parse_database(after.substr(1), error);
    if (!database) return std::nullopt;
    url.database = *database;
  }
  return url;
}

std::optional<StoreAddress> parse_host_port(std::string_view text, uint16_t default_port, std::string& error) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '@') {
      error = "must be \"host:port\" (an IPv6 address in brackets)";
      return std::nullopt;
    }
  }
  return parse_authority_host(text, default_port, error);
}

StoreBackendConfig read_store_backend(const nlohmann::json& value, std::string_view path) {
  require_object(value, path);
  reject_unknown_fields(value, path,
                        {"url", "sentinels", "master", "user", "database", "password_file", "sentinel_user",
                         "sentinel_password_file", "tls", "prefix", "timeout_ms"});
  auto field = [&](std::string_view key) { return child_path(path, key); };
  StoreBackendConfig config;
  bool with_url = value.contains("url");
  bool with_sentinels = value.contains("sentinels");
  if (with_url == with_sentinels) {
    throw JsonFieldError(std::string(path), with_url ? "has both url and sentinels: name one server or the sentinels"
                                                     : "needs url (a Redis or Valkey server) or sentinels");
  }
  if (with_url) {
    config.kind = StoreBackendConfig::Kind::redis;
    std::string error;
    auto url = parse_store_url(read_string(value["url"], field("url")), error);
    if (!url) throw JsonFieldError(field("url"), error);
    config.server = url->address;
    config.tls = url->tls;
    config.user = url->user;
    config.database = url->database;
    // With a URL, these live in it: two places for one setting invite a mismatch.
    for (const char* key : {"master", "user", "database", "sentinel_user", "sentinel_password_file"}) {
      if (value.contains(key)) {
        throw JsonFieldError(field(key), std::string(key) == "user" || std::string(key) == "database"
                                             ? "belongs in the url (redis://user@host:port/database)"
                                             : "only applies with sentinels");
      }
    }
  } else {
    config.kind = StoreBackendConfig::Kind::sentinel;
    const auto& list = value["sentinels"];
    std::string list_path = field("sentinels");
    if (!list.is_array() || list.empty() || list.size() > kMaxSentinels) {
      throw JsonFieldError(list_path, "must be a list of 1 to " + std::to_string(kMaxSentinels) + " \"host:port\"");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::string item_path = list_path + "/" + std::to_string(i);
      std::string error;
      auto address = parse_host_port(read_string(list[i], item_path), kSentinelDefaultPort, error);
      if (!address) throw JsonFieldError(item_path, error);
      for (const auto& earlier : config.sentinels) {
        if (earlier == *address) throw JsonFieldError(item_path, "names " + address->to_string() + " twice");
      }
      config.sentinels.push_back(std::move(*address));
    }
    if (!value.contains("master")) throw JsonFieldError(field("master"), "is required with sentinels");
    config.master_name = read_string(value["master"], field("master"));
    if (config.master_name.empty() || config.master_name.size() > kMaxMasterNameBytes) {
      throw JsonFieldError(field("master"), "must be a name of 1 to " + std::to_string(kMaxMasterNameBytes) + " bytes");
    }
    for (char c : config.master_name) {
      if (c <= 0x20 || c >= 0x7f) throw JsonFieldError(field("master"), "may hold printable ASCII only, without spaces");
    }
    for (auto [key, out] : {std::pair<const char*, std::string*>{"user", &config.user},
                            {"sentinel_user", &config.sentinel_user}}) {
      if (!value.contains(key)) continue;
      *out = read_string(value[key], field(key));
      if (!user_valid(*out)) {
        throw JsonFieldError(field(key), "must be 1 to " + std::to_string(kMaxUserBytes) +
                                             " bytes of printable ASCII, without spaces");
      }
    }
    if (value.contains("database")) {
      config.database = static_cast<uint32_t>(read_integer(value["database"], field("database"), 0, kMaxStoreDatabase));
    }
    if (value.contains("sentinel_password_file")) {
      config.sentinel_password_file = read_absolute_file(value["sentinel_password_file"], field("sentinel_password_file"));
    }
  }
  if (value.contains("password_file")) config.password_file = read_absolute_file(value["password_file"], field("password_file"));
  if (value.contains("tls")) {
    const auto& tls = value["tls"];
    std::string tls_path = field("tls");
    if (config.server.is_unix()) throw JsonFieldError(tls_path, "does not apply to a Unix socket");
    if (config.kind == StoreBackendConfig::Kind::redis && !config.tls) {
      throw JsonFieldError(tls_path, "needs a rediss:// url (redis:// is plain text)");
    }
    require_object(tls, tls_path);
    reject_unknown_fields(tls, tls_path, {"ca", "cert", "key", "server_name"});
    config.tls = true;
    if (tls.contains("ca")) config.tls_ca_file = read_absolute_file(tls["ca"], child_path(tls_path, "ca"));
    if (tls.contains("cert")) config.tls_cert_file = read_absolute_file(tls["cert"], child_path(tls_path, "cert"));
    if (tls.contains("key")) config.tls_key_file = read_absolute_file(tls["key"], child_path(tls_path, "key"));
    if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
      throw JsonFieldError(child_path(tls_path, config.tls_cert_file.empty() ? "cert" : "key"),
                           "a client certificate needs both cert and key");
    }
    if (tls.contains("server_name")) {
      std::string name_path = child_path(tls_path, "server_name");
      config.tls_server_name = read_string(tls["server_name"], name_path);
      if (!store_host_valid(config.tls_server_name)) throw JsonFieldError(name_path, "must be a host name or an IP address");
    }
  }
  if (config.tls && config.tls_ca_file.empty()) config.tls_ca_file = std::string(kSystemCaBundle);
  if (value.contains("prefix")) {
    config.prefix = read_string(value["prefix"], field("prefix"));
    if (config.prefix.size() > kMaxStorePrefixBytes) {
      throw JsonFieldError(field("prefix"), "must be at most " + std::to_string(kMaxStorePrefixBytes) + " bytes");
    }
    for (char c : config.prefix) {
      if (c <= 0x20 || c >= 0x7f) throw JsonFieldError(field("prefix"), "may hold printable ASCII only, without spaces");
    }
  }
  if (value.contains("timeout_ms")) {
    config.timeout_ms = static_cast<uint32_t>(read_integer(value["timeout_ms"], field("timeout_ms"), kMinTimeoutMs, kMaxTimeoutMs));
  }
  return config;
}

}  // namespace policy
