#pragma once
// Reading what Redis Sentinel and a Redis node say about who the master is
// (the Sentinel client spec: ask a sentinel for the master's address, check
// with ROLE that it is one, follow +switch-master). Pure: the replies come
// from the network, so each is checked for shape and bounds and refused
// with a reason, and tests/fuzz/sentinel_replies.cc feeds them anything.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/resp.h"

namespace store::relay {

struct NodeAddress {
  std::string host;  // an IP literal or a host name (policy::store_host_valid)
  uint16_t port = 0;
  std::string to_string() const;  // "10.0.0.5:6379", "[::1]:6379"
  bool operator==(const NodeAddress&) const = default;
};

// SENTINEL get-master-addr-by-name: a two-element array [host, port], or
// null when the sentinel does not know the master. Returns the address,
// or nothing with `error` saying why.
std::optional<NodeAddress> parse_master_address(const ipc::resp::Value& reply, std::string& error);

// ROLE's first element: "master", "slave" (a replica) or "sentinel".
std::optional<std::string> parse_role(const ipc::resp::Value& reply, std::string& error);

// The payload of a +switch-master message, "<name> <old-host> <old-port>
// <new-host> <new-port>": the new address when it is about `master_name`.
std::optional<NodeAddress> parse_switch_master(std::string_view payload, std::string_view master_name);

}  // namespace store::relay
