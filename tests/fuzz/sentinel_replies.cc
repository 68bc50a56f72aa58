// What Redis Sentinel and Redis nodes say about the master reaches the store
// relay from the network (store/relay/sentinel_replies.h). Properties, for
// any bytes:
// - read as a RESP reply, parse_master_address and parse_role never crash;
//   an address they accept has a port and a valid host (one the supervisor
//   will agree to dial), a role is one of the three Redis has.
// - read as a +switch-master payload, parse_switch_master accepts only a
//   message about the master asked for, with a valid new address.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "ipc/resp.h"
#include "policy/store_backend.h"
#include "store/relay/sentinel_replies.h"

namespace resp = ipc::resp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  resp::Value reply;
  size_t consumed = 0;
  std::string error;
  if (resp::parse_value(text, resp::Limits{}, reply, consumed, error) == resp::ParseStatus::complete) {
    std::string why;
    if (auto address = store::relay::parse_master_address(reply, why)) {
      FUZZ_CHECK(address->port >= 1);
      FUZZ_CHECK(policy::store_host_valid(address->host));
    } else {
      FUZZ_CHECK(!why.empty());
    }
    why.clear();
    if (auto role = store::relay::parse_role(reply, why)) {
      FUZZ_CHECK(*role == "master" || *role == "slave" || *role == "sentinel");
    } else {
      FUZZ_CHECK(!why.empty());
    }
  }

  // "<master name>\n<payload>": the name asked for, then the message.
  size_t newline = text.find('\n');
  std::string_view master = newline == std::string_view::npos ? std::string_view("mymaster") : text.substr(0, newline);
  std::string_view payload = newline == std::string_view::npos ? text : text.substr(newline + 1);
  if (auto address = store::relay::parse_switch_master(payload, master)) {
    FUZZ_CHECK(payload.starts_with(master) && payload.size() > master.size() && payload[master.size()] == ' ');
    FUZZ_CHECK(address->port >= 1);
    FUZZ_CHECK(policy::store_host_valid(address->host));
  }
  return 0;
}
