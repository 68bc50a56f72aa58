// What the store relay sends to Redis for a client's request
// (store/relay/relay_commands.h). A worker is an attacker, and the prefix
// is the tenants' boundary on a shared backend. Properties, for any request,
// with a tenant's prefix and without, in and out of subscribe mode:
// - a forwarded command is a well-formed request of as many arguments, with
//   the name the relay chose (never the client's spelling), and every key
//   or channel it names starts with the client's prefix;
// - KEYS, SCAN and DBSIZE patterns start with the prefix, escaped as a glob;
// - whatever carries the prefix loses exactly it again (strip_prefix).

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ipc/resp.h"
#include "store/relay/relay_commands.h"

namespace resp = ipc::resp;
using store::relay::Action;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  size_t consumed = 0;
  std::string error;
  if (resp::parse_request(text, resp::Limits{}, args, consumed, error) != resp::ParseStatus::complete || args.empty()) {
    return 0;
  }
  static const std::set<std::string, std::less<>> kForwarded = {"PING", "GET", "SET", "DEL", "EXISTS", "PUBLISH"};
  for (std::string_view prefix : {std::string_view("pb:"), std::string_view("pb:tenant-a:"), std::string_view("")}) {
    for (bool subscribe_mode : {false, true}) {
      auto plan = store::relay::plan_request(args, prefix, subscribe_mode);
      if (plan.action == Action::forward) {
        std::vector<std::string> upstream;
        size_t used = 0;
        std::string why;
        FUZZ_CHECK(resp::parse_request(plan.upstream, resp::Limits{}, upstream, used, why) ==
                   resp::ParseStatus::complete);
        FUZZ_CHECK(used == plan.upstream.size());
        FUZZ_CHECK(upstream.size() == args.size());
        FUZZ_CHECK(kForwarded.contains(upstream[0]));
        size_t last_key = upstream[0] == "PING"                                ? 0
                          : upstream[0] == "DEL" || upstream[0] == "EXISTS" ? upstream.size() - 1
                                                                             : 1;
        for (size_t i = 1; i <= last_key; ++i) {
          FUZZ_CHECK(upstream[i].starts_with(prefix));
          FUZZ_CHECK(upstream[i].substr(prefix.size()) == args[i]);
          auto stripped = store::relay::strip_prefix(upstream[i], prefix);
          FUZZ_CHECK(stripped.has_value() && *stripped == args[i]);
        }
      } else if (plan.action == Action::keys || plan.action == Action::scan || plan.action == Action::dbsize) {
        FUZZ_CHECK(plan.pattern.starts_with(store::relay::escape_glob(prefix)));
      }
    }
  }
  return 0;
}
