#pragma once
// The store's key/value map. Memory is accounted as the bytes of keys plus
// values (not allocator overhead), so the limit is easy to reason about from the
// data a handler wrote; a write that would pass the limit is refused whole.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/string_map.h"

namespace store {

inline constexpr size_t kDefaultMaxMemoryBytes = 256 * 1024 * 1024;

// KEYS runs on the store's only thread, so one call must not be able to hold
// every other client up for long. Each call may spend this many steps (one per
// key visited, one per pattern byte compared; see glob.h) and fails past it.
// A step took about 3 ns on the 2-core test machine, so a call stops after
// about 0.3 s. A plain scan ("*", a prefix and "*", a short suffix) of a full
// 256 MiB store (under 3 million keys at ~92 bytes each) stays well within it.
inline constexpr uint64_t kDefaultKeysWorkBudget = 100'000'000;

class Keyspace {
 public:
  explicit Keyspace(size_t max_memory_bytes = kDefaultMaxMemoryBytes) : max_bytes_(max_memory_bytes) {}

  // The stored value, or nullptr; valid until the keyspace next changes.
  const std::string* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  // Stores `value` under `key`, replacing any old value. Returns false, changing
  // nothing, when the result would exceed the memory limit.
  [[nodiscard]] bool set(std::string_view key, std::string_view value);
  bool erase(std::string_view key);

  // Keys matching a KEYS glob pattern, in no particular order; the views are
  // valid until the keyspace next changes. Nothing once `budget` steps are
  // spent.
  std::optional<std::vector<std::string_view>> keys_matching(std::string_view pattern, uint64_t budget) const;

  size_t size() const { return entries_.size(); }
  size_t used_bytes() const { return used_bytes_; }
  size_t max_bytes() const { return max_bytes_; }

 private:
  StringMap<std::string> entries_;
  size_t used_bytes_ = 0;
  size_t max_bytes_;
};

}  // namespace store
