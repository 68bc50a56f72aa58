#include "policy/egress_settings.h"

namespace policy {
namespace {

std::vector<std::string> texts(const std::vector<EgressRule>& rules) {
  std::vector<std::string> out;
  out.reserve(rules.size());
  for (const auto& rule : rules) out.push_back(rule.to_string());
  return out;
}

}  // namespace

EffectiveEgress effective_egress(const std::optional<Manifest>& manifest, const std::vector<EgressRule>* tenant_cap,
                                 const EgressDefaults& defaults, std::vector<std::string>& warnings) {
  EffectiveEgress egress;
  egress.concurrent = defaults.concurrent;
  egress.per_second = defaults.per_second;
  // Fail closed: no manifest, or one without `connect`, reaches nothing.
  std::vector<EgressRule> connect;
  if (manifest && manifest->connect) connect = *manifest->connect;
  egress.connect = texts(connect);
  egress.policy.add_layer(EgressRuleSet(std::move(connect)));
  if (tenant_cap != nullptr) {
    egress.capped_by_tenant = true;
    egress.tenant_cap = texts(*tenant_cap);
    egress.policy.add_layer(EgressRuleSet(*tenant_cap));
  }
  if (!manifest) return egress;
  const ConnectLimits& limits = manifest->connect_limits;
  auto bounded = [&](const std::optional<uint32_t>& asked, uint32_t ceiling, uint32_t& in_force, const char* field,
                     const char* config_field) {
    if (!asked) return;
    in_force = *asked;
    if (*asked > ceiling) {
      warnings.push_back(std::string("connectLimits.") + field + " " + std::to_string(*asked) +
                         " is above the broker's ceiling (egress." + config_field + " " + std::to_string(ceiling) +
                         "); " + std::to_string(ceiling) + " applies");
      in_force = ceiling;
    }
  };
  bounded(limits.concurrent, defaults.max_concurrent, egress.concurrent, "concurrent", "max_concurrent");
  bounded(limits.per_second, defaults.max_per_second, egress.per_second, "perSecond", "max_per_second");
  return egress;
}

std::vector<std::string> tighten_egress(EffectiveEgress& egress, const Manifest& access) {
  std::vector<std::string> warnings;
  if (access.connect) {
    const EgressRuleSet& manifest_layer = egress.policy.layers().front();
    for (const auto& rule : *access.connect) {
      if (!manifest_layer.covers(rule)) {
        warnings.push_back("access.connect " + rule.to_string() +
                           " is not inside the manifest's connect list; it cannot widen it");
      }
    }
    egress.access = texts(*access.connect);
    egress.policy.add_layer(EgressRuleSet(*access.connect));
  }
  auto lower = [&](const std::optional<uint32_t>& asked, uint32_t& in_force, const char* field) {
    if (!asked) return;
    if (*asked <= in_force) {
      in_force = *asked;
    } else {
      warnings.push_back(std::string("access.connectLimits.") + field + " " + std::to_string(*asked) +
                         " is above the limit in force (" + std::to_string(in_force) + "); ignored");
    }
  };
  lower(access.connect_limits.concurrent, egress.concurrent, "concurrent");
  lower(access.connect_limits.per_second, egress.per_second, "perSecond");
  return warnings;
}

}  // namespace policy
