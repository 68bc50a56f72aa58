#pragma once
// The store's key/value map. Each entry is charged what it really costs (its
// hash node, its strings' allocations, its share of the bucket array; see
// memory.h) against the store's one memory limit, so the limit bounds the
// process's memory, not just the payload. A write that would pass the limit
// is refused whole and changes nothing.
//
// Scopes (a tenant's part of the store, docs/architecture.md): a scope named
// `alice` owns the keys named `alice:<key>`, whoever writes them. Each scope
// has a quota of its own; its keys are charged what they cost (entry_bytes:
// the node and the strings, not the shared bucket array), and a write that
// would take the scope past its quota is refused like one past the store's
// limit. Each scope's key count and charge are kept as keys come and go.

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

// A scope's quota and what its keys use of it.
struct ScopeUsage {
  size_t max_bytes = 0;
  size_t keys = 0;
  size_t charged_bytes = 0;
  bool operator==(const ScopeUsage&) const = default;
};

enum class WriteResult {
  ok,
  out_of_memory,     // past the store's limit
  over_scope_quota,  // past the quota of the scope that owns the key
};

// The name of the scope a key would belong to: the part before its first
// ':', or empty when it has none (whether that scope exists is another matter).
std::string_view scope_name_of_key(std::string_view key);

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

  // Stores `value` under `key`, replacing any old value, unless the result
  // would exceed the memory limit or the quota of the key's scope: then it
  // changes nothing and says which.
  [[nodiscard]] WriteResult write(std::string_view key, std::string_view value);
  [[nodiscard]] bool set(std::string_view key, std::string_view value) { return write(key, value) == WriteResult::ok; }
  bool erase(std::string_view key);

  // Keys matching a KEYS glob pattern, in no particular order; the views are
  // valid until the keyspace next changes. Nothing once `budget` steps are
  // spent.
  std::optional<std::vector<std::string_view>> keys_matching(std::string_view pattern, uint64_t budget) const;
  // The same among the keys that start with `prefix` (which has no glob
  // characters), matched and returned without it. Every key visited costs a
  // step, those without the prefix too.
  std::optional<std::vector<std::string_view>> keys_matching(std::string_view prefix, std::string_view pattern,
                                                             uint64_t budget) const;

  // Adds the scope `name` with a quota of `max_bytes`, counting and charging
  // the keys it already owns (one pass over the keyspace), or, if it exists,
  // sets its quota (keys already past a lowered quota stay; writes are
  // refused until deletes bring it under). False, changing nothing, for a
  // name that is empty or contains ':' (it could own no key).
  bool set_scope(std::string_view name, size_t max_bytes);
  // Forgets the scope's quota and counts; its keys stay (unscoped clients
  // still reach them). Returns whether it existed.
  bool remove_scope(std::string_view name);
  const ScopeUsage* scope(std::string_view name) const;
  size_t scope_count() const { return scopes_.size(); }
  // The scope's usage computed afresh from the table (tests check they agree).
  ScopeUsage recount_scope(std::string_view name) const;

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
  ScopeUsage* owner_of(std::string_view key);

  MemoryAccount& memory_;
  Map entries_;
  size_t charged_ = 0;
  // Scopes by name. Control data, not charged: the supervisor adds one per
  // tenant.
  StringMap<ScopeUsage> scopes_;
};

}  // namespace store
