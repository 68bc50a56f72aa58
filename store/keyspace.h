#pragma once
// The store's key/value map. Each entry is charged what it really costs (its
// hash node, its strings' allocations, its share of the bucket array; see
// memory.h) against the store's one memory limit, so the limit bounds the
// process's memory, not just the payload. A write that would pass the limit
// is refused whole and changes nothing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/memory.h"
#include "store/string_map.h"

namespace store {

// KEYS runs on the store's only thread, so one call must not be able to hold
// every other client up for long. Each call may spend this many steps (one per
// key visited, one per pattern byte compared; see glob.h) and fails past it.
// A step took about 3 ns on the 2-core test machine, so a call stops after
// about 0.3 s. A plain scan ("*", a prefix and "*", a short suffix) of a full
// 256 MiB store (under 3 million keys at ~92 bytes each) stays well within it.
inline constexpr uint64_t kDefaultKeysWorkBudget = 100'000'000;

class Keyspace {
 public:
  using Map = StringMap<std::string>;

  explicit Keyspace(MemoryAccount& memory) : memory_(memory) {}
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;
  ~Keyspace();

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
  // What this keyspace is charged, kept up to date as it changes.
  size_t charged_bytes() const { return charged_; }
  // The same figure computed afresh from the table (tests check they agree).
  size_t recount_bytes() const;

  // What one entry costs, bucket slot aside.
  static size_t entry_bytes(size_t key_length, size_t value_length);

  // The hasher the table uses (tests check it is the keyed one).
  using hasher = Map::hasher;

 private:
  void charge(size_t before, size_t after);

  MemoryAccount& memory_;
  Map entries_;
  size_t charged_ = 0;
};

}  // namespace store
