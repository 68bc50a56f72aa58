#pragma once
// SipHash-2-4 (Aumasson and Bernstein, 2012) with a key drawn from the kernel
// once per process. Every hash table whose keys come from outside (source
// addresses, store keys and channels) uses it: with an unkeyed hash a client
// can pick keys that all land in one bucket and turn each lookup into a scan
// (hash flooding). The key is secret and differs per process, so collisions
// cannot be computed offline.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace common {

using SipKey = std::array<uint8_t, 16>;

uint64_t siphash24(const SipKey& key, const void* data, size_t size);

// This process's key: random (getrandom), chosen on first use.
const SipKey& process_hash_key();

inline uint64_t keyed_hash(const void* data, size_t size) { return siphash24(process_hash_key(), data, size); }

// For unordered containers keyed by strings, searchable with a string_view.
// Deliberately not noexcept: libstdc++ then stores each element's hash code
// in its node, so rehashing and walking a bucket compare codes instead of
// running SipHash again.
struct KeyedStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return keyed_hash(text.data(), text.size()); }
};

}  // namespace common
