// Manifests come from folder writers and `access` exports from handler code,
// both less trusted than root. Input: a transport byte ('t' or anything even:
// TCP; 'u' or anything odd: UDP), then a sidecar manifest and a module's
// access document, split at the first NUL (or else at the middle).
// Properties: parsing fails only with a JsonFieldError naming a JSON path;
// and tightening never loosens: every sample source the tightened policy
// admits, the sidecar's policy admitted, every source the access denies is
// refused, and no cap, limit or timeout goes up while each lower one asked
// for applies.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "policy/json_fields.h"
#include "policy/manifest.h"
#include "policy/screening.h"

namespace {

using policy::Cidr;
using policy::IpAddress;
using policy::Manifest;

// Parses, checking that a refusal is a JsonFieldError with a JSON path.
std::optional<Manifest> parse(std::string_view text, policy::Transport transport, policy::ManifestKind kind) {
  try {
    return policy::parse_manifest(text, transport, kind);
  } catch (const policy::JsonFieldError& e) {
    FUZZ_CHECK(!e.path().empty() && e.path().front() == '/');
    FUZZ_CHECK(std::string_view(e.what()).starts_with(e.path() + ": "));
    return std::nullopt;
  } catch (...) {
    FUZZ_CHECK(!"parse_manifest threw something other than JsonFieldError");
    return std::nullopt;
  }
}

IpAddress address(const char* text) { return *IpAddress::parse(text); }

// Adds `delta` (+1 or -1) to an address, wrapping within its family.
IpAddress step(IpAddress a, int delta) {
  for (size_t i = a.bits() / 8; i-- > 0;) {
    uint8_t before = a.bytes[i];
    a.bytes[i] = static_cast<uint8_t>(before + delta);
    if ((delta > 0 && before != 0xFF) || (delta < 0 && before != 0)) break;
  }
  return a;
}

IpAddress last_of(const Cidr& block) {
  IpAddress last = block.network;
  for (size_t bit = block.prefix; bit < last.bits(); ++bit) {
    last.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  return last;
}

IpAddress mapped(const IpAddress& v4) {
  uint8_t bytes[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  std::copy_n(v4.bytes.begin(), 4, bytes + 12);
  return IpAddress::v6(bytes);
}

// Sources on both sides of every edge of every block in play, and a few fixed ones.
std::vector<IpAddress> samples(const Manifest& sidecar, const Manifest& access) {
  std::vector<IpAddress> out = {address("0.0.0.0"), address("255.255.255.255"), address("10.0.0.1"),
                                address("127.0.0.1"), address("::"), address("::1"), address("::ffff:10.0.0.1"),
                                address("2001:db8::1"), address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")};
  auto add_edges = [&](const std::vector<Cidr>& blocks) {
    for (const auto& block : blocks) {
      IpAddress last = last_of(block);
      for (const IpAddress& a : {block.network, step(block.network, -1), last, step(last, 1)}) {
        out.push_back(a);
        if (a.is_v4) out.push_back(mapped(a));
      }
    }
  };
  for (const Manifest* m : {&sidecar, &access}) {
    if (m->allow) add_edges(*m->allow);
    add_edges(m->deny);
  }
  return out;
}

// The lower of what was in force and what access asked for.
template <typename T>
T lowered(T in_force, const std::optional<T>& asked) {
  return asked && *asked < in_force ? *asked : in_force;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto transport = (data[0] & 1) ? policy::Transport::udp : policy::Transport::tcp;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = rest.find('\0');
  std::string_view sidecar_text = split == std::string_view::npos ? rest.substr(0, rest.size() / 2) : rest.substr(0, split);
  std::string_view access_text =
      split == std::string_view::npos ? rest.substr(rest.size() / 2) : rest.substr(split + 1);

  // Every reading must fail cleanly or succeed, whatever the transport and kind.
  auto other = transport == policy::Transport::tcp ? policy::Transport::udp : policy::Transport::tcp;
  parse(sidecar_text, other, policy::ManifestKind::sidecar);
  parse(sidecar_text, transport, policy::ManifestKind::module_access);
  auto sidecar = parse(sidecar_text, transport, policy::ManifestKind::sidecar);
  auto access = parse(access_text, transport, policy::ManifestKind::module_access);
  if (!sidecar || !access) return 0;
  FUZZ_CHECK(!sidecar->allow || sidecar->allow->size() <= policy::kMaxCidrsPerList);
  FUZZ_CHECK(sidecar->deny.size() <= policy::kMaxCidrsPerList);
  FUZZ_CHECK(!access->allow || access->allow->size() <= policy::kMaxCidrsPerList);
  FUZZ_CHECK(access->deny.size() <= policy::kMaxCidrsPerList);

  const policy::ScreeningDefaults defaults;
  const policy::EffectivePolicy original = policy::effective_policy(sidecar, transport, defaults);
  policy::EffectivePolicy tightened = original;
  policy::tighten(tightened, *access);

  // Membership through CidrSet (checked against the linear reference by the
  // cidr target): a linear scan per sample made this target quadratic in the
  // lists' lengths, a few hundred executions a second on long inputs.
  const policy::CidrSet access_deny(access->deny);
  const std::optional<policy::CidrSet> access_allow =
      access->allow ? std::optional<policy::CidrSet>(policy::CidrSet(*access->allow)) : std::nullopt;
  for (const IpAddress& source : samples(*sidecar, *access)) {
    auto before = policy::screen_source(original, source);
    auto after = policy::screen_source(tightened, source);
    if (after == policy::Refusal::none) FUZZ_CHECK(before == policy::Refusal::none);
    if (access_deny.contains(source)) FUZZ_CHECK(after != policy::Refusal::none);
    if (access_allow && !access_allow->contains(source)) FUZZ_CHECK(after == policy::Refusal::not_allowed);
  }

  FUZZ_CHECK(tightened.max_connections == lowered(original.max_connections, access->max_connections));
  if (original.max_connections_per_ip) {
    FUZZ_CHECK(tightened.max_connections_per_ip ==
               lowered(*original.max_connections_per_ip, access->max_connections_per_ip));
  } else {
    FUZZ_CHECK(tightened.max_connections_per_ip == access->max_connections_per_ip);
  }
  FUZZ_CHECK(tightened.idle_timeout_s == lowered(original.idle_timeout_s, access->idle_timeout_s));
  FUZZ_CHECK(tightened.reply_ratio == lowered(original.reply_ratio, access->reply_ratio));
  FUZZ_CHECK(tightened.max_reply_rate == lowered(original.max_reply_rate, access->max_reply_rate));
  // Every limit in force still applies, and access only adds its own.
  FUZZ_CHECK(tightened.rate_limits.size() >= original.rate_limits.size());
  FUZZ_CHECK(std::equal(original.rate_limits.begin(), original.rate_limits.end(), tightened.rate_limits.begin()));
  FUZZ_CHECK(tightened.rate_limits.size() == original.rate_limits.size() + (access->rate_limit ? 1 : 0));
  FUZZ_CHECK(tightened.allow.size() == original.allow.size() + (access->allow ? 1 : 0));
  FUZZ_CHECK(tightened.transport == original.transport);
  return 0;
}
