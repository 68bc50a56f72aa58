#pragma once
// What the store's data costs in memory, and the one budget every part of it
// draws on. Counting only the bytes of keys and values let a 256 MiB limit take
// about 5 GB of real memory with tiny keys, since each key costs a hash node, a
// bucket slot and string headers. Here each structure is charged what the
// allocator hands out for it, estimated from the container's layout
// (libstdc++) and glibc's malloc rounding, so the figure tracks resident memory
// instead of the payload. tests/unit/store_commands_test.cc compares it with
// mallinfo2 so the constants cannot drift silently.

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace store {

inline constexpr size_t kDefaultMaxMemoryBytes = 256 * 1024 * 1024;

// glibc's malloc on 64-bit: each chunk carries an 8-byte size header, is
// rounded up to 16 bytes, and is at least 32 bytes.
constexpr size_t allocation_bytes(size_t requested) {
  constexpr size_t kHeader = 8;
  constexpr size_t kAlign = 16;
  constexpr size_t kMinimum = 32;
  size_t chunk = (requested + kHeader + kAlign - 1) / kAlign * kAlign;
  return chunk < kMinimum ? kMinimum : chunk;
}

// libstdc++ keeps short strings inside the object (no allocation); a longer
// one allocates capacity + 1 bytes.
inline const size_t kInlineStringCapacity = std::string().capacity();

inline size_t string_heap_bytes(size_t capacity) {
  return capacity > kInlineStringCapacity ? allocation_bytes(capacity + 1) : 0;
}
inline size_t string_heap_bytes(const std::string& text) { return string_heap_bytes(text.capacity()); }

// A node of an unordered container: a next pointer, the value, and the
// element's hash code unless libstdc++ deems the hasher cheap (fast and
// noexcept); the keyed string hash is deliberately not, so its tables cache.
template <typename Map>
constexpr size_t hash_node_bytes() {
  constexpr bool cached = std::__cache_default<typename Map::key_type, typename Map::hasher>::value;
  return allocation_bytes(sizeof(void*) + sizeof(typename Map::value_type) + (cached ? sizeof(size_t) : 0));
}

// A node of std::set/std::map: colour, parent, left and right (32 bytes) before
// the value.
template <typename Value>
constexpr size_t tree_node_bytes() {
  constexpr size_t kTreeNodeHeader = 32;
  return allocation_bytes(kTreeNodeHeader + sizeof(Value));
}

// An unordered container's bucket array: one pointer per bucket, none
// allocated while the table has its single built-in bucket.
template <typename Map>
size_t bucket_array_bytes(const Map& map) {
  return map.bucket_count() > 1 ? allocation_bytes(map.bucket_count() * sizeof(void*)) : 0;
}

// Growing the table is done here rather than left to the container, so the
// size it grows to is known before the memory is spent: at least twice the
// buckets, and never left to a rehash inside emplace.
template <typename Map>
bool needs_more_buckets(const Map& map, size_t extra) {
  return static_cast<double>(map.size() + extra) >= static_cast<double>(map.bucket_count()) * map.max_load_factor();
}

template <typename Map>
size_t bucket_target(const Map& map, size_t extra) {
  size_t target = map.size() + extra;
  return target > 2 * map.bucket_count() ? target : 2 * map.bucket_count();
}

// A bound on the bucket count libstdc++ picks when asked for `n`: it rounds
// up to a prime from its table, at most 13 below 14 and at most 21% above the
// request from there on (tests/unit/store_commands_test.cc sweeps it).
constexpr size_t bucket_count_bound(size_t n) { return n < 14 ? 13 : n + n / 4 + 4; }

// The bucket array's bytes once `prepare_insert(map, extra)` has run: exact
// when no growth is due, else an upper bound.
template <typename Map>
size_t bucket_array_bytes_after_insert(const Map& map, size_t extra) {
  if (!needs_more_buckets(map, extra)) return bucket_array_bytes(map);
  auto wanted = static_cast<size_t>(std::ceil(static_cast<double>(bucket_target(map, extra)) / map.max_load_factor()));
  return allocation_bytes(bucket_count_bound(wanted) * sizeof(void*));
}

// Call before inserting up to `extra` elements: afterwards no emplace rehashes.
template <typename Map>
void prepare_insert(Map& map, size_t extra) {
  if (needs_more_buckets(map, extra)) map.reserve(bucket_target(map, extra));
}

// Tables never shrink by themselves: a keyspace filled and then emptied would
// keep its largest bucket array, still charged, and deleting keys would not
// give the room back. A quarter full or less, the table halves to twice its
// size (so the next insert does not grow it straight back).
template <typename Map>
void shrink_after_erase(Map& map) {
  constexpr size_t kSmallTable = 64;
  if (map.bucket_count() > kSmallTable && map.size() * 4 < map.bucket_count()) map.rehash(map.size() * 2);
}

// The store's one memory limit (maxmemory) and who uses how much of it.
class MemoryAccount {
 public:
  enum class Use : size_t {
    keyspace,  // keys, values and the table that holds them
    pubsub,    // channels and subscriptions
    clients,   // connections: pending input, unsent output, per-connection state
  };

  explicit MemoryAccount(size_t max_bytes = kDefaultMaxMemoryBytes) : max_bytes_(max_bytes) {}
  MemoryAccount(const MemoryAccount&) = delete;
  MemoryAccount& operator=(const MemoryAccount&) = delete;

  size_t max_bytes() const { return max_bytes_; }
  size_t used_bytes() const { return used_[0] + used_[1] + used_[2]; }
  size_t used_bytes(Use use) const { return used_[static_cast<size_t>(use)]; }

  // Whether freeing `released` bytes and then taking `added` keeps the total
  // within the limit. Writes ask this before they change anything.
  bool fits(size_t added, size_t released) const {
    size_t used = used_bytes();
    size_t after = used - (released < used ? released : used);
    return added <= max_bytes_ && after <= max_bytes_ - added;
  }

  // Records that `use` went from `before` to `after` bytes.
  void update(Use use, size_t before, size_t after) {
    auto& slot = used_[static_cast<size_t>(use)];
    slot = slot - before + after;
  }

 private:
  std::array<size_t, 3> used_{};
  size_t max_bytes_;
};

}  // namespace store
