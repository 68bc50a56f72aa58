#include "policy/tenant_config.h"

#include <cstdlib>

#include "policy/json_fields.h"
#include "policy/manifest.h"

namespace policy {
namespace {

constexpr size_t kMaxTenants = 1000;
constexpr size_t kMaxPortEntries = 256;
constexpr size_t kMaxTenantNameBytes = 32;

uint16_t read_port(std::string_view text, const std::string& path) {
  uint16_t port = 0;
  if (!parse_port(text, port)) throw JsonFieldError(path, "'" + std::string(text) + "' is not a port 1-65535");
  return port;
}

PortRange read_port_entry(const nlohmann::json& value, const std::string& path) {
  if (value.is_number_unsigned()) {
    uint16_t port = static_cast<uint16_t>(read_integer(value, path, 1, 65535));
    return {port, port};
  }
  if (!value.is_string()) throw JsonFieldError(path, "must be a port number or a \"first-last\" range");
  std::string text = value.get<std::string>();
  auto dash = text.find('-');
  if (dash == std::string::npos) {
    uint16_t port = read_port(text, path);
    return {port, port};
  }
  PortRange range{read_port(std::string_view(text).substr(0, dash), path),
                  read_port(std::string_view(text).substr(dash + 1), path)};
  if (range.first > range.last) throw JsonFieldError(path, "'" + text + "' is an empty range (first above last)");
  return range;
}

TenantLimits read_limits(const nlohmann::json& value, const std::string& path) {
  require_object(value, path);
  reject_unknown_fields(value, path, {"handlers", "connections", "memory_mb", "store_mb", "pids"});
  TenantLimits limits;
  auto field = [&](const char* key) { return child_path(path, key); };
  if (value.contains("handlers")) limits.handlers = static_cast<uint32_t>(read_integer(value["handlers"], field("handlers"), 1, 10000));
  if (value.contains("connections")) {
    limits.connections = static_cast<uint32_t>(read_integer(value["connections"], field("connections"), 1, 10000000));
  }
  if (value.contains("memory_mb")) limits.memory_mb = read_integer(value["memory_mb"], field("memory_mb"), 64, 1048576);
  if (value.contains("store_mb")) limits.store_mb = read_integer(value["store_mb"], field("store_mb"), 1, 1048576);
  if (value.contains("pids")) limits.pids = static_cast<uint32_t>(read_integer(value["pids"], field("pids"), 16, 4194304));
  return limits;
}

// Two folders overlap when one is, or lies inside, the other.
bool overlap(const std::string& a, const std::string& b) { return path_within(a, b) || path_within(b, a); }

}  // namespace

bool tenant_name_valid(std::string_view name) {
  if (name.empty() || name.size() > kMaxTenantNameBytes || !(name.front() >= 'a' && name.front() <= 'z')) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool TenantConfig::allows_port(uint16_t port) const {
  for (const auto& range : ports) {
    if (range.contains(port)) return true;
  }
  return false;
}

std::string TenantConfig::ports_text() const {
  std::string text;
  for (const auto& range : ports) text += (text.empty() ? "" : ", ") + range.to_string();
  return text;
}

std::vector<TenantConfig> read_tenants(const nlohmann::json& tenants, const std::string& operator_dir,
                                       const std::string& state_dir) {
  const std::string path = "/tenants";
  require_object(tenants, path);
  if (tenants.size() > kMaxTenants) throw JsonFieldError(path, "has more than " + std::to_string(kMaxTenants) + " tenants");
  std::vector<TenantConfig> out;
  for (const auto& [name, value] : tenants.items()) {
    std::string tenant_path = child_path(path, name);
    if (!tenant_name_valid(name)) {
      throw JsonFieldError(tenant_path,
                           "tenant names are a lower-case letter, then up to 31 lower-case letters, digits, '-' or '_'");
    }
    require_object(value, tenant_path);
    reject_unknown_fields(value, tenant_path, {"handlers", "ports", "user", "limits", "tls", "egress"});
    TenantConfig tenant;
    tenant.name = name;
    tenant.tls.tenant = name;
    for (const char* required : {"handlers", "ports"}) {
      if (!value.contains(required)) throw JsonFieldError(child_path(tenant_path, required), "is required");
    }
    std::string dir_path = child_path(tenant_path, "handlers");
    tenant.handlers_dir = read_string(value["handlers"], dir_path);
    if (!normal_absolute_path(tenant.handlers_dir) || tenant.handlers_dir == "/") {
      throw JsonFieldError(dir_path, "must be a plain absolute path to a folder");
    }
    if (overlap(tenant.handlers_dir, operator_dir)) {
      throw JsonFieldError(dir_path, "'" + tenant.handlers_dir + "' overlaps the operator's handlers folder (" +
                                         operator_dir + ")");
    }
    if (overlap(tenant.handlers_dir, state_dir)) {
      throw JsonFieldError(dir_path, "'" + tenant.handlers_dir + "' overlaps state_dir (" + state_dir + ")");
    }
    std::string ports_path = child_path(tenant_path, "ports");
    const auto& ports = value["ports"];
    if (!ports.is_array() || ports.empty() || ports.size() > kMaxPortEntries) {
      throw JsonFieldError(ports_path, "must be an array of 1 to " + std::to_string(kMaxPortEntries) +
                                           " ports or \"first-last\" ranges");
    }
    for (size_t i = 0; i < ports.size(); ++i) {
      std::string item_path = ports_path + "/" + std::to_string(i);
      PortRange range = read_port_entry(ports[i], item_path);
      for (const auto& earlier : tenant.ports) {
        if (earlier.overlaps(range)) {
          throw JsonFieldError(item_path, range.to_string() + " overlaps " + earlier.to_string() + " of the same tenant");
        }
      }
      tenant.ports.push_back(range);
    }
    if (value.contains("user")) {
      std::string user_path = child_path(tenant_path, "user");
      tenant.user = read_string(value["user"], user_path);
      if (tenant.user->empty() || *tenant.user == "root") {
        throw JsonFieldError(user_path, "must name an unprivileged user");
      }
    }
    if (value.contains("egress")) tenant.egress = read_egress_rules(value["egress"], child_path(tenant_path, "egress"));
    if (value.contains("limits")) tenant.limits = read_limits(value["limits"], child_path(tenant_path, "limits"));
    if (value.contains("tls")) {
      std::string tls_path = child_path(tenant_path, "tls");
      tenant.tls = read_tls_sources(value["tls"], tls_path);
      tenant.tls.tenant = name;
      for (size_t i = 0; i < tenant.tls.key_dirs.size(); ++i) {
        const std::string& dir = tenant.tls.key_dirs[i];
        std::string key_path = tls_path + "/key_dirs/" + std::to_string(i);
        if (overlap(dir, state_dir)) {
          throw JsonFieldError(key_path, "'" + dir + "' overlaps state_dir (" + state_dir + "), where the local CA's key is");
        }
        if (overlap(dir, operator_dir) || overlap(dir, tenant.handlers_dir)) {
          throw JsonFieldError(key_path, "'" + dir + "' overlaps a handlers folder, which handler code can read");
        }
      }
    }
    // Against the tenants read so far: disjoint ports, separate folders.
    for (const auto& other : out) {
      for (const auto& mine : tenant.ports) {
        for (const auto& theirs : other.ports) {
          if (mine.overlaps(theirs)) {
            throw JsonFieldError(ports_path, "ports " + mine.to_string() + " overlap tenant " + other.name + "'s " +
                                                 theirs.to_string());
          }
        }
      }
      if (overlap(tenant.handlers_dir, other.handlers_dir)) {
        throw JsonFieldError(dir_path, "'" + tenant.handlers_dir + "' overlaps tenant " + other.name + "'s folder (" +
                                           other.handlers_dir + ")");
      }
      for (const auto& dir : tenant.tls.key_dirs) {
        if (overlap(dir, other.handlers_dir)) {
          throw JsonFieldError(child_path(tenant_path, "tls"), "key directory '" + dir + "' overlaps tenant " +
                                                                    other.name + "'s folder");
        }
      }
      for (const auto& dir : other.tls.key_dirs) {
        if (overlap(dir, tenant.handlers_dir)) {
          throw JsonFieldError(dir_path, "'" + tenant.handlers_dir + "' overlaps tenant " + other.name +
                                             "'s key directory '" + dir + "'");
        }
      }
    }
    out.push_back(std::move(tenant));
  }
  return out;
}

}  // namespace policy
