#include "policy/egress_rules.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace policy {
namespace {

// The text as written, control characters escaped, cut short, for messages.
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (unsigned char c : text.substr(0, 80)) {
    if (c < 0x20 || c >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > 80) out += "...";
  return out + "'";
}

bool label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A last label the C library's inet_aton would read as a number: decimal,
// octal or hex ("0x7f"). WHATWG URL parsing calls such hosts IPv4 too.
bool numeric_label(std::string_view label) {
  if (label.size() > 1 && label[0] == '0' && label[1] == 'x') {
    return std::all_of(label.begin() + 2, label.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
  }
  return std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Block {
  std::array<uint8_t, 16> bytes;
  uint8_t prefix;
  AddressClass kind;
};

bool in_block(const IpAddress& address, const Block& block) {
  for (size_t bit = 0; bit < block.prefix; bit += 8) {
    size_t byte = bit / 8;
    size_t keep = std::min<size_t>(8, block.prefix - bit);
    uint8_t mask = static_cast<uint8_t>(0xFF << (8 - keep));
    if ((address.bytes[byte] & mask) != (block.bytes[byte] & mask)) return false;
  }
  return true;
}

// IANA's IPv4 special-purpose registry, and 224/4 and 240/4 (whose last
// address is the limited broadcast address). Everything listed there is
// either not forwardable or not globally reachable, except 192.0.0.9/32 and
// 192.0.0.10/32 (anycast services few will ever need to reach from a
// handler; an IP entry can still admit them).
constexpr Block kV4Special[] = {
    {{0}, 8, AddressClass::unspecified},
    {{10}, 8, AddressClass::private_use},
    {{100, 64}, 10, AddressClass::shared},
    {{127}, 8, AddressClass::loopback},
    {{169, 254}, 16, AddressClass::link_local},
    {{172, 16}, 12, AddressClass::private_use},
    {{192, 0, 0}, 24, AddressClass::reserved},
    {{192, 0, 2}, 24, AddressClass::documentation},
    {{192, 31, 196}, 24, AddressClass::reserved},
    {{192, 52, 193}, 24, AddressClass::reserved},
    {{192, 88, 99}, 24, AddressClass::reserved},
    {{192, 168}, 16, AddressClass::private_use},
    {{192, 175, 48}, 24, AddressClass::reserved},
    {{198, 18}, 15, AddressClass::reserved},
    {{198, 51, 100}, 24, AddressClass::documentation},
    {{203, 0, 113}, 24, AddressClass::documentation},
    {{224}, 4, AddressClass::multicast},
    {{240}, 4, AddressClass::reserved},
};

// IPv6: only 2000::/3 is global unicast; within it, the blocks below are
// special. Everything outside 2000::/3 that is not listed is reserved.
constexpr Block kV6Special[] = {
    {{0x01}, 64, AddressClass::reserved},                  // 100::/64 discard-only
    {{0x20, 0x01, 0x00}, 23, AddressClass::reserved},      // 2001::/23 protocol assignments (Teredo, ORCHID, ...)
    {{0x20, 0x01, 0x0d, 0xb8}, 32, AddressClass::documentation},
    {{0x3f, 0xff}, 20, AddressClass::documentation},       // 3fff::/20
    {{0xfc}, 7, AddressClass::private_use},                // unique local
    {{0xfe, 0x80}, 10, AddressClass::link_local},
    {{0xfe, 0xc0}, 10, AddressClass::reserved},            // site-local, deprecated
    {{0xff}, 8, AddressClass::multicast},
};

constexpr uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
constexpr uint8_t kNat64Local[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};  // 64:ff9b:1::/48
constexpr uint8_t kTranslated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};  // ::ffff:0:a.b.c.d

AddressClass classify_v4(const IpAddress& address) {
  for (const auto& block : kV4Special) {
    if (in_block(address, block)) return block.kind;
  }
  return AddressClass::global;
}

}  // namespace

std::string EgressRule::to_string() const {
  std::string ports_text = ports.first == 1 && ports.last == 65535 ? "*" : ports.to_string();
  switch (target) {
    case EgressTarget::name: return name + ":" + ports_text;
    case EgressTarget::wildcard: return "*." + name + ":" + ports_text;
    case EgressTarget::public_addresses: return "public:" + ports_text;
    case EgressTarget::block: {
      std::string host = block.prefix == block.network.bits() ? block.network.to_string() : block.to_string();
      return (block.network.is_v4 ? host : "[" + host + "]") + ":" + ports_text;
    }
  }
  return {};
}

std::optional<std::string> normalize_host_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > kMaxHostNameBytes) return std::nullopt;
  std::string name;
  name.reserve(text.size());
  size_t label_start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      size_t length = i - label_start;
      if (length == 0 || length > 63) return std::nullopt;
      // Hyphens may not start or end a label (RFC 952/1123).
      if (name[label_start] == '-' || name.back() == '-') return std::nullopt;
      if (i < text.size()) name += '.';
      label_start = i + 1;
      continue;
    }
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!label_char(c)) return std::nullopt;
    name += c;
  }
  auto last_dot = name.rfind('.');
  std::string_view last = last_dot == std::string::npos ? std::string_view(name) : std::string_view(name).substr(last_dot + 1);
  if (numeric_label(last)) return std::nullopt;
  return name;
}

std::optional<EgressHost> parse_egress_host(std::string_view text, std::string& error) {
  std::string_view bare = text;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
    auto address = IpAddress::parse(bare);
    if (!address || address->is_v4) {
      error = quoted(text) + " is not an IPv6 address in brackets";
      return std::nullopt;
    }
    return EgressHost{address, {}};
  }
  if (auto address = IpAddress::parse(bare)) return EgressHost{address, {}};
  auto name = normalize_host_name(bare);
  if (!name) {
    error = quoted(text) + " is not a host name or an IP address";
    return std::nullopt;
  }
  return EgressHost{std::nullopt, std::move(*name)};
}

std::optional<EgressRule> parse_egress_rule(std::string_view text, std::string& error) {
  if (text.size() > kMaxEntryBytes) {
    error = quoted(text) + " is longer than " + std::to_string(kMaxEntryBytes) + " bytes";
    return std::nullopt;
  }
  // The port follows the last colon; IPv6 hosts are bracketed so that this
  // is unambiguous.
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = quoted(text) + " has no port: write host:port, host:first-last or host:*";
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  EgressRule rule;
  if (port_text != "*" && !parse_port_range(port_text, rule.ports)) {
    error = quoted(text) + " has an invalid port " + quoted(port_text) + " (1-65535, a range first-last, or *)";
    return std::nullopt;
  }
  if (host.empty()) {
    error = quoted(text) + " has no host";
    return std::nullopt;
  }
  if (host == "public") {
    rule.target = EgressTarget::public_addresses;
    return rule;
  }
  bool bracketed = host.front() == '[';
  if (bracketed != (host.back() == ']') || (bracketed && host.size() < 3)) {
    error = quoted(text) + " has unbalanced brackets";
    return std::nullopt;
  }
  std::string_view address_text = bracketed ? host.substr(1, host.size() - 2) : host;
  bool looks_like_address = bracketed || address_text.find('/') != std::string_view::npos ||
                            IpAddress::parse(address_text.substr(0, address_text.find('/'))).has_value();
  if (looks_like_address) {
    std::string cidr_error;
    auto block = parse_cidr(address_text, cidr_error);
    if (!block) {
      error = quoted(text) + ": " + cidr_error;
      return std::nullopt;
    }
    if (bracketed == block->network.is_v4) {
      error = quoted(text) + (bracketed ? " brackets an IPv4 address; write it without brackets"
                                        : " is IPv6: write the address in brackets, [" + std::string(address_text) +
                                              "]:port");
      return std::nullopt;
    }
    rule.target = EgressTarget::block;
    rule.block = *block;
    return rule;
  }
  if (host.starts_with("*.")) {
    auto parent = normalize_host_name(host.substr(2));
    if (!parent) {
      error = quoted(text) + " is not a wildcard over a valid name";
      return std::nullopt;
    }
    // Unlike on-demand TLS names, "*.internal" is fine: it admits less
    // than `public` does, and private top-level names are common.
    rule.target = EgressTarget::wildcard;
    rule.name = std::move(*parent);
    return rule;
  }
  if (host == "*") {
    error = quoted(text) + ": '*' is not a host name; 'public' admits any globally routable address";
    return std::nullopt;
  }
  if (host.find('*') != std::string_view::npos) {
    error = quoted(text) + " has a '*' that is not a leading '*.' label";
    return std::nullopt;
  }
  auto name = normalize_host_name(host);
  if (!name) {
    error = quoted(text) + " is not a host name, an IP address, a CIDR block or 'public'";
    return std::nullopt;
  }
  // "PUBLIC:443" would otherwise be a name entry for a host called public.
  if (*name == "public") {
    error = quoted(text) + ": the token is written 'public', in lower case";
    return std::nullopt;
  }
  rule.target = EgressTarget::name;
  rule.name = std::move(*name);
  return rule;
}

AddressClass classify(const IpAddress& address) {
  if (address.is_v4) return classify_v4(address);
  const auto& b = address.bytes;
  // Forms that carry an IPv4 address take its class.
  if (address.is_v4_mapped()) return classify_v4(address.unmapped());
  if (std::equal(std::begin(kTranslated), std::end(kTranslated), b.begin())) return classify_v4(IpAddress::v4(b.data() + 12));
  if (std::equal(std::begin(kNat64), std::end(kNat64), b.begin())) return classify_v4(IpAddress::v4(b.data() + 12));
  if (std::equal(std::begin(kNat64Local), std::end(kNat64Local), b.begin())) return AddressClass::reserved;
  if (b[0] == 0x20 && b[1] == 0x02) return classify_v4(IpAddress::v4(b.data() + 2));  // 6to4
  bool zero_prefix = std::all_of(b.begin(), b.begin() + 15, [](uint8_t x) { return x == 0; });
  if (zero_prefix && b[15] == 0) return AddressClass::unspecified;
  if (zero_prefix && b[15] == 1) return AddressClass::loopback;
  for (const auto& block : kV6Special) {
    if (in_block(address, block)) return block.kind;
  }
  // Global unicast is 2000::/3; the rest is unassigned or special.
  if ((b[0] & 0xE0) == 0x20) return AddressClass::global;
  return AddressClass::reserved;
}

std::string_view address_class_name(AddressClass kind) {
  switch (kind) {
    case AddressClass::global: return "global";
    case AddressClass::unspecified: return "unspecified";
    case AddressClass::loopback: return "loopback";
    case AddressClass::private_use: return "private";
    case AddressClass::shared: return "shared (CGNAT)";
    case AddressClass::link_local: return "link-local";
    case AddressClass::multicast: return "multicast";
    case AddressClass::documentation: return "documentation";
    case AddressClass::reserved: return "reserved";
  }
  return "reserved";
}

std::string_view egress_refusal_name(EgressRefusal refusal) {
  switch (refusal) {
    case EgressRefusal::none: return "none";
    case EgressRefusal::not_allowed: return "not-allowed";
    case EgressRefusal::forbidden_address: return "forbidden-address";
    case EgressRefusal::rate_limit: return "rate-limit";
    case EgressRefusal::max_outbound: return "max-outbound";
  }
  return "none";
}

bool name_safe(const IpAddress& address, const CidrSet& host_addresses) {
  return classify(address) == AddressClass::global && !host_addresses.contains(address);
}

namespace {

bool name_matches(const EgressRule& rule, std::string_view name) {
  if (rule.target == EgressTarget::name) return name == rule.name;
  if (rule.target != EgressTarget::wildcard) return false;
  // Exactly one label more than the parent domain.
  if (name.size() < rule.name.size() + 2 || !name.ends_with(rule.name)) return false;
  std::string_view label = name.substr(0, name.size() - rule.name.size());
  return label.back() == '.' && label.size() >= 2 && label.substr(0, label.size() - 1).find('.') == std::string_view::npos;
}

bool port_fits(const EgressRule& rule, std::optional<uint16_t> port) { return !port || rule.ports.contains(*port); }

}  // namespace

bool EgressRuleSet::names(std::string_view name, std::optional<uint16_t> port) const {
  return std::any_of(rules_.begin(), rules_.end(), [&](const EgressRule& rule) {
    return port_fits(rule, port) && (rule.target == EgressTarget::public_addresses || name_matches(rule, name));
  });
}

bool EgressRuleSet::admits(const IpAddress& address, std::optional<uint16_t> port, const std::string* by_name,
                           bool safe) const {
  return std::any_of(rules_.begin(), rules_.end(), [&](const EgressRule& rule) {
    if (!port_fits(rule, port)) return false;
    switch (rule.target) {
      case EgressTarget::block: return rule.block.contains(address);
      case EgressTarget::public_addresses: return safe;
      case EgressTarget::name:
      case EgressTarget::wildcard: return safe && by_name != nullptr && name_matches(rule, *by_name);
    }
    return false;
  });
}

bool EgressRuleSet::covers(const EgressRule& rule) const {
  return std::any_of(rules_.begin(), rules_.end(), [&](const EgressRule& mine) {
    if (!mine.ports.covers(rule.ports)) return false;
    switch (rule.target) {
      case EgressTarget::block:
        // `public` admits only global addresses; a block is inside it only
        // if all of it is, which this approximation does not try to show.
        return mine.target == EgressTarget::block && mine.block.covers(rule.block);
      case EgressTarget::name: return mine.target == EgressTarget::public_addresses || name_matches(mine, rule.name);
      case EgressTarget::wildcard:
        return mine.target == EgressTarget::public_addresses ||
               (mine.target == EgressTarget::wildcard && mine.name == rule.name);
      case EgressTarget::public_addresses: return mine.target == EgressTarget::public_addresses;
    }
    return false;
  });
}

bool EgressPolicy::admits_nothing() const {
  return layers_.empty() || std::any_of(layers_.begin(), layers_.end(), [](const EgressRuleSet& l) { return l.empty(); });
}

EgressRefusal EgressPolicy::check_name(std::string_view name, std::optional<uint16_t> port) const {
  if (admits_nothing()) return EgressRefusal::not_allowed;
  for (const auto& layer : layers_) {
    if (!layer.names(name, port)) return EgressRefusal::not_allowed;
  }
  return EgressRefusal::none;
}

EgressRefusal EgressPolicy::check(const IpAddress& address, std::optional<uint16_t> port, const std::string* by_name,
                                  const CidrSet& host_addresses) const {
  if (admits_nothing()) return EgressRefusal::not_allowed;
  bool safe = name_safe(address, host_addresses);
  for (const auto& layer : layers_) {
    if (!layer.admits(address, port, by_name, safe)) {
      // Would the layer have taken it, were the address globally routable?
      // Then it is the address's class that refused it.
      return !safe && layer.admits(address, port, by_name, true) ? EgressRefusal::forbidden_address
                                                                  : EgressRefusal::not_allowed;
    }
  }
  return EgressRefusal::none;
}

EgressRefusal EgressPolicy::check_address(const IpAddress& address, std::optional<uint16_t> port,
                                          const CidrSet& host_addresses) const {
  return check(address, port, nullptr, host_addresses);
}

EgressRefusal EgressPolicy::check_answers(const std::string& name, std::optional<uint16_t> port,
                                          std::span<const IpAddress> answers, const CidrSet& host_addresses) const {
  if (answers.empty()) return EgressRefusal::not_allowed;
  if (auto refusal = check_name(name, port); refusal != EgressRefusal::none) return refusal;
  // One answer that is not admitted refuses the name whole; a forbidden
  // address is the reason that matters most, so it is reported first.
  EgressRefusal worst = EgressRefusal::none;
  for (const auto& answer : answers) {
    auto refusal = check(answer, port, &name, host_addresses);
    if (refusal == EgressRefusal::forbidden_address) return refusal;
    if (refusal != EgressRefusal::none) worst = refusal;
  }
  return worst;
}

}  // namespace policy
