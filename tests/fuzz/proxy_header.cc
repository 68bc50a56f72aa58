// PROXY protocol headers are the first bytes a connection from a trusted
// balancer brings, read by the root supervisor before anything else is known
// of it. Input: the bytes at the start of a connection.
// Properties: the parser never claims more bytes than it was given or than the
// bounds allow; its answer is stable as bytes arrive (an invalid start stays
// invalid, a complete header keeps its length and meaning whatever follows,
// an incomplete one was incomplete one byte earlier too), so the supervisor
// can read exactly the header and never the client's payload; and what it
// passes on to handlers stays within its bounds and alphabets.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "policy/proxy_header.h"

namespace {

using policy::ProxyHeaderParse;
using Status = ProxyHeaderParse::Status;

bool same(const policy::ProxyHeader& a, const policy::ProxyHeader& b) {
  if (a.version != b.version || a.command != b.command || a.authority != b.authority || a.alpn != b.alpn ||
      a.unique_id != b.unique_id || a.addresses.has_value() != b.addresses.has_value() ||
      a.ssl.has_value() != b.ssl.has_value()) {
    return false;
  }
  if (a.addresses && (a.addresses->source != b.addresses->source ||
                      a.addresses->destination != b.addresses->destination ||
                      a.addresses->source_port != b.addresses->source_port ||
                      a.addresses->destination_port != b.addresses->destination_port)) {
    return false;
  }
  return !a.ssl || (a.ssl->client == b.ssl->client && a.ssl->verify == b.ssl->verify &&
                    a.ssl->version == b.ssl->version && a.ssl->common_name == b.ssl->common_name);
}

bool no_control_bytes(const std::string& text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  ProxyHeaderParse parse = policy::parse_proxy_header(input);
  std::vector<uint8_t> longer(input.begin(), input.end());
  longer.push_back(data == nullptr || size == 0 ? 'P' : data[size - 1]);

  switch (parse.status) {
    case Status::incomplete:
      // Everything given may be consumed: it is all header, within the bound.
      FUZZ_CHECK(size < policy::kProxyMaxHeaderBytes);
      if (size > 0 && data[0] != 0x0D) FUZZ_CHECK(size < policy::kProxyV1MaxBytes);
      if (size > 0) FUZZ_CHECK(policy::parse_proxy_header(input.first(size - 1)).status == Status::incomplete);
      break;
    case Status::invalid: {
      FUZZ_CHECK(parse.error != policy::ProxyHeaderError::none);
      FUZZ_CHECK(!parse.detail.empty());
      for (char c : parse.detail) FUZZ_CHECK(c >= 0x20 && c < 0x7F);
      // More bytes never mend a start that is already wrong.
      FUZZ_CHECK(policy::parse_proxy_header(longer).status == Status::invalid);
      break;
    }
    case Status::complete: {
      FUZZ_CHECK(parse.length > 0 && parse.length <= size);
      FUZZ_CHECK(parse.length <= policy::kProxyMaxHeaderBytes);
      FUZZ_CHECK(parse.header.version == 1 || parse.header.version == 2);
      if (parse.header.version == 1) {
        FUZZ_CHECK(parse.length <= policy::kProxyV1MaxBytes);
        FUZZ_CHECK(parse.header.command == policy::ProxyCommand::proxy);
      }
      // The header alone says the same; what follows it is not its business.
      auto alone = policy::parse_proxy_header(input.first(parse.length));
      FUZZ_CHECK(alone.status == Status::complete && alone.length == parse.length && same(alone.header, parse.header));
      auto extended = policy::parse_proxy_header(longer);
      FUZZ_CHECK(extended.status == Status::complete && extended.length == parse.length &&
                 same(extended.header, parse.header));
      FUZZ_CHECK(policy::parse_proxy_header(input.first(parse.length - 1)).status == Status::incomplete);
      const auto& header = parse.header;
      FUZZ_CHECK(header.authority.size() <= policy::kProxyMaxAuthorityBytes && no_control_bytes(header.authority));
      FUZZ_CHECK(header.alpn.size() <= policy::kProxyMaxAlpnBytes && no_control_bytes(header.alpn));
      FUZZ_CHECK(header.unique_id.size() <= policy::kProxyMaxUniqueIdBytes);
      if (header.ssl) {
        FUZZ_CHECK(header.ssl->version.size() <= policy::kProxyMaxSslTextBytes && no_control_bytes(header.ssl->version));
        FUZZ_CHECK(header.ssl->common_name.size() <= policy::kProxyMaxSslTextBytes &&
                   no_control_bytes(header.ssl->common_name));
      }
      if (header.command == policy::ProxyCommand::local) FUZZ_CHECK(!header.addresses && header.version == 2);
      break;
    }
  }
  return 0;
}
