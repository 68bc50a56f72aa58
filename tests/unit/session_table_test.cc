#include "policy/session_table.h"
#include "tests/unit/address_literals.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

using policy::Endpoint;
using policy::EndpointHash;
using policy::IpAddress;

namespace {

Endpoint endpoint(const std::string& address, uint16_t port) { return {ip(address), port}; }

}  // namespace

namespace {

// The unkeyed hash EndpointHash used to be: FNV-1a of the address, times 31, plus the port.
size_t unkeyed(const Endpoint& endpoint) {
  const IpAddress& address = endpoint.address;
  size_t hash = address.is_v4 ? 0x811c9dc5u : 0x01000193u;
  for (size_t i = 0; i < (address.is_v4 ? 4u : 16u); ++i) hash = (hash ^ address.bytes[i]) * 0x100000001b3ull;
  return hash * 31 + endpoint.port;
}

struct UnkeyedHash {
  size_t operator()(const Endpoint& endpoint) const { return unkeyed(endpoint); }
};

template <typename Map>
size_t largest_bucket(const Map& map) {
  size_t largest = 0;
  for (size_t i = 0; i < map.bucket_count(); ++i) largest = std::max(largest, map.bucket_size(i));
  return largest;
}

}  // namespace

TEST_CASE("hash flooding: endpoints of one /64 that share a bucket under the unkeyed hash spread out") {
  std::unordered_map<Endpoint, int, UnkeyedHash> old_table;
  old_table.reserve(1000);
  const size_t buckets = old_table.bucket_count();
  // One address, then whatever port puts it in bucket 0: any address of the
  // attacker's /64 has one.
  std::vector<Endpoint> batch;
  IpAddress address = ip("2001:db8:0:1::");
  for (uint32_t n = 0; batch.size() < 200; ++n) {
    address.bytes[12] = static_cast<uint8_t>(n >> 24);
    address.bytes[13] = static_cast<uint8_t>(n >> 16);
    address.bytes[14] = static_cast<uint8_t>(n >> 8);
    address.bytes[15] = static_cast<uint8_t>(n);
    for (uint32_t port = 1; port < 65536; ++port) {
      Endpoint candidate{address, static_cast<uint16_t>(port)};
      if (unkeyed(candidate) % buckets == 0) {
        batch.push_back(candidate);
        break;
      }
    }
  }
  for (const auto& e : batch) old_table.emplace(e, 0);
  REQUIRE(old_table.bucket_count() == buckets);
  REQUIRE(largest_bucket(old_table) == 200);

  std::unordered_map<Endpoint, int, EndpointHash> keyed;
  keyed.reserve(1000);
  REQUIRE(keyed.bucket_count() == buckets);
  for (const auto& e : batch) keyed.emplace(e, 0);
  CHECK(largest_bucket(keyed) < 8);
}

TEST_CASE("EndpointHash agrees with equality and tells ports apart") {
  EndpointHash hash;
  CHECK(hash(endpoint("10.1.2.3", 53)) == hash(Endpoint{ip("::ffff:10.1.2.3").unmapped(), 53}));
  CHECK(hash(endpoint("10.1.2.3", 53)) != hash(endpoint("10.1.2.3", 54)));
}
