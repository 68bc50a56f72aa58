#pragma once
// What the hash-flooding tests compare against: the unkeyed hash the
// per-source tables used before (FNV-1a, which anyone can compute offline),
// and how full a table's fullest bucket is.

#include <algorithm>
#include <cstddef>

#include "policy/ip_address.h"

namespace hash_flooding {

inline size_t unkeyed_fnv(const policy::IpAddress& address) {
  size_t hash = address.is_v4 ? 0x811c9dc5u : 0x01000193u;
  for (size_t i = 0; i < (address.is_v4 ? 4u : 16u); ++i) hash = (hash ^ address.bytes[i]) * 0x100000001b3ull;
  return hash;
}

template <typename Map>
size_t largest_bucket(const Map& map) {
  size_t largest = 0;
  for (size_t i = 0; i < map.bucket_count(); ++i) largest = std::max(largest, map.bucket_size(i));
  return largest;
}

}  // namespace hash_flooding
