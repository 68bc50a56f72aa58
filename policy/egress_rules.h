#pragma once
// Egress: which destinations a handler may connect to, decided before the
// supervisor dials anything. Pure logic: the resolver's answers and the
// host's own addresses come from the caller (supervisor/egress/).
//
// An entry of a manifest's `connect` list (or an `access` export's, or a
// tenant's `egress` cap) is a destination and a port, a port range or `*`:
//
//   db.internal:5432          a name, exactly (case-insensitive, one trailing dot ignored)
//   *.example.com:8000-8100   any name one label below example.com (as TLS names)
//   10.1.0.0/16:6379          an IPv4 block, or one address (10.1.2.3:6379)
//   [2001:db8::/32]:443       IPv6 in brackets, a block or one address
//   public:443                any globally routable address, by name or by address
//
// The SSRF rule: a name entry or `public` admits only globally routable
// addresses that are not the host's own. Loopback, private, link-local
// (169.254.169.254 included), CGNAT, multicast, documentation, reserved
// and unspecified addresses, the IPv4-mapped, 6to4 and NAT64 forms of those,
// and the host's own addresses are admitted only by an IP or CIDR entry that
// contains them. A name is resolved at all only when every layer of the
// policy names it (a name, wildcard or `public` entry), so handler code
// cannot make the broker send DNS queries for arbitrary names; and it is
// refused whole when any one of its answers is not admitted, so a name that
// also resolves to a forbidden address (DNS rebinding) gets nowhere.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/ip_address.h"
#include "policy/port_range.h"

namespace policy {

// Entries per list, as for allow/deny: lists are intersected and shown in
// status, and a bound keeps both cheap whatever a folder writer puts there.
inline constexpr size_t kMaxEgressRules = 256;
inline constexpr size_t kMaxHostNameBytes = 253;
inline constexpr size_t kMaxEntryBytes = 512;

enum class EgressTarget { name, wildcard, block, public_addresses };

struct EgressRule {
  EgressTarget target = EgressTarget::name;
  // name: the host name, lower case; wildcard: the parent domain
  // ("example.com" for "*.example.com").
  std::string name;
  Cidr block;  // target == block; a single address is a /32 or /128
  PortRange ports{1, 65535};
  // The canonical text ("db.internal:5432", "[2001:db8::/32]:443",
  // "public:*"), which parses back into the same rule.
  std::string to_string() const;
  bool operator==(const EgressRule&) const = default;
};

// One entry; nullopt with `error` (naming the entry, not its position).
std::optional<EgressRule> parse_egress_rule(std::string_view text, std::string& error);

// A host name as handler code asks for it, normalised: lower case, one
// trailing dot dropped; ASCII letters, digits, '-' and '_' in labels of 1-63
// bytes, 253 bytes in all. A last label of digits (or hex, "0x7f") is not a
// name: the C library's resolver would read "127.1" or "0x7f.1" as an
// address, and such forms must never reach it. (URLs already hold names in
// their ASCII form; the worker converts before asking.)
std::optional<std::string> normalize_host_name(std::string_view text);

// What handler code asked to reach: an address literal (canonical form
// only: dotted-quad IPv4, or IPv6 with or without brackets) or a name.
struct EgressHost {
  std::optional<IpAddress> address;
  std::string name;  // when not an address
};
std::optional<EgressHost> parse_egress_host(std::string_view text, std::string& error);

// Where an address sits in the IANA special-purpose registries (RFC 6890
// and successors). Only `global` is reachable by name or through `public`.
enum class AddressClass {
  global,
  unspecified,    // 0.0.0.0/8, ::
  loopback,       // 127.0.0.0/8, ::1
  private_use,    // 10/8, 172.16/12, 192.168/16, fc00::/7
  shared,         // 100.64.0.0/10 (carrier-grade NAT)
  link_local,     // 169.254/16 (cloud metadata at .254), fe80::/10
  multicast,      // 224/4, ff00::/8
  documentation,  // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  reserved,       // everything else special: 240/4 and broadcast, benchmarking, protocol assignments, ...
};
// The class of an address. IPv4-mapped (::ffff:a.b.c.d), IPv4-translated,
// 6to4 (2002::/16) and NAT64 (64:ff9b::/96) addresses take the class of
// the IPv4 address they carry, so no form of a forbidden address passes as
// global.
AddressClass classify(const IpAddress& address);
std::string_view address_class_name(AddressClass kind);

// Why a destination was refused, as counted in status.
enum class EgressRefusal {
  none,
  not_allowed,        // no entry admits it
  forbidden_address,  // a name (or `public`) led to an address only an IP/CIDR entry could admit
  rate_limit,         // the handler's connects per second
  max_outbound,       // the handler's concurrent outbound connections
};
inline constexpr size_t kEgressRefusalKinds = 5;
std::string_view egress_refusal_name(EgressRefusal refusal);

// One list of rules (a manifest's `connect`, an `access` export's, a
// tenant's cap). Empty: nothing.
class EgressRuleSet {
 public:
  EgressRuleSet() = default;
  explicit EgressRuleSet(std::vector<EgressRule> rules) : rules_(std::move(rules)) {}

  // Whether some rule lets a name be resolved: a name or wildcard entry for
  // it, or `public`, with `port` in its range (any port when not given:
  // dns.lookup knows none).
  bool names(std::string_view name, std::optional<uint16_t> port) const;
  // Whether some rule admits `address` at `port` (any port when not given).
  // `by_name`: reached through a name (matched against name entries) or
  // nullptr for an address literal; `name_safe`: the address may be reached
  // by name or `public` (global and not the host's own).
  bool admits(const IpAddress& address, std::optional<uint16_t> port, const std::string* by_name,
              bool name_safe) const;
  // Whether everything `rule` admits is admitted here too, as far as the
  // rules alone can tell (for warnings about an `access` export that tries
  // to widen; enforcement intersects the lists whatever this says).
  bool covers(const EgressRule& rule) const;

  const std::vector<EgressRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<EgressRule> rules_;
};

// The effective policy: every layer must admit a destination (the
// manifest's list, the module's `access`, the tenant's cap), so the
// narrowest wins. No layers at all admits nothing.
class EgressPolicy {
 public:
  void add_layer(EgressRuleSet layer) { layers_.push_back(std::move(layer)); }
  const std::vector<EgressRuleSet>& layers() const { return layers_; }
  bool admits_nothing() const;

  // Before resolving: may `name` be resolved for `port`? (not_allowed if not)
  EgressRefusal check_name(std::string_view name, std::optional<uint16_t> port) const;
  // An address literal the handler asked for.
  EgressRefusal check_address(const IpAddress& address, std::optional<uint16_t> port,
                              const CidrSet& host_addresses) const;
  // Every answer for `name` must be admitted; one that is not refuses the
  // name whole. Empty answers: not_allowed (nothing to connect to).
  EgressRefusal check_answers(const std::string& name, std::optional<uint16_t> port,
                              std::span<const IpAddress> answers, const CidrSet& host_addresses) const;

 private:
  EgressRefusal check(const IpAddress& address, std::optional<uint16_t> port, const std::string* by_name,
                      const CidrSet& host_addresses) const;

  std::vector<EgressRuleSet> layers_;
};

// Whether `address` may be reached by name or `public`.
bool name_safe(const IpAddress& address, const CidrSet& host_addresses);

}  // namespace policy
