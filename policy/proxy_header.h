#pragma once
// PROXY protocol headers, version 1 (one line of text) and version 2
// (binary, with TLVs), as HAProxy's doc/proxy-protocol.txt specifies them: a
// load balancer puts one at the start of each connection to say whom it
// relays. Pure parsing, no I/O: the supervisor's gate feeds it the bytes seen
// so far and reads from the socket exactly what it says the header takes.
//
// Strict: anything that does not match the grammar exactly is refused, never
// guessed at (the spec: "any sequence which does not exactly match the
// protocol must be discarded"). Debian packages no C or C++ parser for it
// (only Go and Haskell ones), and this one is small.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/ip_address.h"

namespace policy {

// v1: the longest line the spec allows, CRLF included.
inline constexpr size_t kProxyV1MaxBytes = 107;
// v2: signature, version and command, family and protocol, length.
inline constexpr size_t kProxyV2FixedBytes = 16;
// v2: the most address and TLV bytes taken after the fixed part. The format
// allows 65535; what balancers send (addresses, SNI, ALPN, a unique ID, TLS
// details) takes a few hundred, and a header is read before anything else is
// known about the connection, so the bound is tight. A balancer told to pass
// whole client certificates (PP2_SUBTYPE_SSL_CLIENT_CERT) can exceed it.
inline constexpr size_t kProxyV2MaxLength = 4096;
inline constexpr size_t kProxyMaxHeaderBytes = kProxyV2FixedBytes + kProxyV2MaxLength;
// Bounds on the TLV values handed to handlers: a DNS name, an ALPN protocol
// identifier (RFC 7301), the spec's own bound on unique IDs, and TLS texts.
inline constexpr size_t kProxyMaxAuthorityBytes = 255;
inline constexpr size_t kProxyMaxAlpnBytes = 255;
inline constexpr size_t kProxyMaxUniqueIdBytes = 128;
inline constexpr size_t kProxyMaxSslTextBytes = 255;

enum class ProxyCommand {
  proxy,  // relayed on behalf of a client
  local,  // v2 only: the balancer's own connection (a health check)
};

struct ProxyAddresses {
  IpAddress source;
  IpAddress destination;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
};

// PP2_TYPE_SSL: how the client reached the balancer.
struct ProxySsl {
  static constexpr uint8_t kClientSsl = 0x01;
  static constexpr uint8_t kClientCertConnection = 0x02;
  static constexpr uint8_t kClientCertSession = 0x04;

  uint8_t client = 0;       // kClient* bits
  uint32_t verify = 0;      // 0: the client presented a certificate and it verified
  std::string version;      // PP2_SUBTYPE_SSL_VERSION ("TLSv1.3"); empty when not sent
  std::string common_name;  // PP2_SUBTYPE_SSL_CN of the client certificate; empty when not sent

  bool client_certificate() const { return (client & (kClientCertConnection | kClientCertSession)) != 0; }
  bool verified() const { return client_certificate() && verify == 0; }
};

struct ProxyHeader {
  int version = 0;  // 1 or 2
  ProxyCommand command = ProxyCommand::proxy;
  // The relayed connection's addresses. Absent for LOCAL, v1 UNKNOWN, and
  // v2 UNSPEC, UNIX or datagram families: then the connection's own
  // addresses apply, as the spec asks of a receiver that does not use them.
  std::optional<ProxyAddresses> addresses;
  // v2 TLVs; empty (or absent) when not sent.
  std::string authority;           // PP2_TYPE_AUTHORITY: the host name the client asked for (SNI), UTF-8
  std::string alpn;                // PP2_TYPE_ALPN: the application protocol negotiated
  std::vector<uint8_t> unique_id;  // PP2_TYPE_UNIQUE_ID: opaque bytes
  std::optional<ProxySsl> ssl;     // PP2_TYPE_SSL
};

// Why a header was refused, as counted in status.
enum class ProxyHeaderError {
  none,
  malformed,  // not the grammar: bad signature, version, command, family, address, port, TLV
  too_large,  // v1 without CRLF in 107 bytes, v2 longer than kProxyV2MaxLength
  checksum,   // a v2 PP2_TYPE_CRC32C that does not match
};
std::string_view proxy_header_error_name(ProxyHeaderError error);

struct ProxyHeaderParse {
  enum class Status { incomplete, complete, invalid };
  Status status = Status::incomplete;
  size_t length = 0;  // complete: the header's bytes, from the start of the input
  ProxyHeader header;  // complete
  ProxyHeaderError error = ProxyHeaderError::none;  // invalid
  std::string detail;  // invalid: what was wrong, for the log (printable ASCII)
};

// Parses the start of a connection, `input` being every byte received so far.
// `incomplete` promises that all of `input` belongs to the header (so it may
// all be consumed) and that more is needed; `complete`, that exactly `length`
// bytes do (anything after is the client's payload); `invalid` comes as soon
// as the input can no longer begin a valid header.
ProxyHeaderParse parse_proxy_header(std::span<const uint8_t> input);

}  // namespace policy
