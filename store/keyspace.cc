#include "store/keyspace.h"

#include "store/glob.h"

namespace store {
namespace {

size_t stored_entry_bytes(const Keyspace::Map::value_type& entry) {
  return hash_node_bytes<Keyspace::Map>() + string_heap_bytes(entry.first) +
         string_heap_bytes(entry.second);
}

// Whether a scope charged `charged` of `max` can release `released` bytes and
// then take `added` (the same test as MemoryAccount::fits).
bool scope_fits(const ScopeUsage& scope, size_t added, size_t released) {
  size_t after = scope.charged_bytes - (released < scope.charged_bytes ? released : scope.charged_bytes);
  return added <= scope.max_bytes && after <= scope.max_bytes - added;
}

}  // namespace

std::string_view scope_name_of_key(std::string_view key) {
  size_t colon = key.find(':');
  return colon == std::string_view::npos ? std::string_view() : key.substr(0, colon);
}

Keyspace::~Keyspace() { memory_.update(MemoryAccount::Use::keyspace, charged_, 0); }

size_t Keyspace::entry_bytes(size_t key_length, size_t value_length) {
  // A string built from a view of n bytes has capacity n exactly.
  return hash_node_bytes<Map>() + string_heap_bytes(key_length) + string_heap_bytes(value_length);
}

const std::string* Keyspace::find(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

ScopeUsage* Keyspace::owner_of(std::string_view key) {
  if (scopes_.empty()) return nullptr;
  std::string_view name = scope_name_of_key(key);
  if (name.empty()) return nullptr;
  auto it = scopes_.find(name);
  return it == scopes_.end() ? nullptr : &it->second;
}

WriteResult Keyspace::write(std::string_view key, std::string_view value) {
  ScopeUsage* owner = owner_of(key);
  size_t cost = entry_bytes(key.size(), value.size());
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    size_t before = stored_entry_bytes(*it);
    if (owner != nullptr && !scope_fits(*owner, cost, before)) return WriteResult::over_scope_quota;
    if (!memory_.fits(cost, before)) return WriteResult::out_of_memory;
    // A fresh string swapped in, not assign(): assigning keeps the old
    // capacity, so a value once large would go on holding its memory.
    std::string fresh(value);
    it->second.swap(fresh);
    size_t after = stored_entry_bytes(*it);
    charge(before, after);
    if (owner != nullptr) owner->charged_bytes = owner->charged_bytes - before + after;
    return WriteResult::ok;
  }
  if (owner != nullptr && !scope_fits(*owner, cost, 0)) return WriteResult::over_scope_quota;
  size_t buckets_before = bucket_array_bytes(entries_);
  size_t needed = cost + bucket_array_bytes_after_insert(entries_, 1);
  if (!memory_.fits(needed, buckets_before)) return WriteResult::out_of_memory;
  prepare_insert(entries_, 1);
  auto added = entries_.emplace(key, value).first;
  size_t entry = stored_entry_bytes(*added);
  charge(buckets_before, entry + bucket_array_bytes(entries_));
  if (owner != nullptr) {
    ++owner->keys;
    owner->charged_bytes += entry;
  }
  return WriteResult::ok;
}

bool Keyspace::erase(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  size_t entry = stored_entry_bytes(*it);
  if (ScopeUsage* owner = owner_of(key)) {
    --owner->keys;
    owner->charged_bytes -= entry;
  }
  size_t before = entry + bucket_array_bytes(entries_);
  // `key` may view the name being erased: it is not used past this point.
  entries_.erase(it);
  shrink_after_erase(entries_);
  charge(before, bucket_array_bytes(entries_));
  return true;
}

std::optional<std::vector<std::string_view>> Keyspace::keys_matching(std::string_view pattern,
                                                                     uint64_t budget) const {
  return keys_matching({}, pattern, budget);
}

std::optional<std::vector<std::string_view>> Keyspace::keys_matching(std::string_view prefix,
                                                                     std::string_view pattern,
                                                                     uint64_t budget) const {
  std::vector<std::string_view> keys;
  bool everything = pattern == "*";
  for (const auto& entry : entries_) {
    // Visiting a key is a step too, so even "*" over a huge keyspace is bounded.
    if (budget == 0) return std::nullopt;
    --budget;
    std::string_view key = entry.first;
    if (!key.starts_with(prefix)) continue;
    key.remove_prefix(prefix.size());
    if (everything) {
      keys.emplace_back(key);
      continue;
    }
    switch (glob_match(pattern, key, budget)) {
      case GlobResult::match:
        keys.emplace_back(key);
        break;
      case GlobResult::no_match:
        break;
      case GlobResult::out_of_budget:
        return std::nullopt;
    }
  }
  return keys;
}

bool Keyspace::set_scope(std::string_view name, size_t max_bytes) {
  if (name.empty() || name.find(':') != std::string_view::npos) return false;
  auto it = scopes_.find(name);
  if (it != scopes_.end()) {
    it->second.max_bytes = max_bytes;
    return true;
  }
  // Keys it owns may be there already: written through the unscoped socket,
  // or left by an earlier scope of the name.
  ScopeUsage usage = recount_scope(name);
  usage.max_bytes = max_bytes;
  scopes_.emplace(name, usage);
  return true;
}

bool Keyspace::remove_scope(std::string_view name) {
  auto it = scopes_.find(name);
  if (it == scopes_.end()) return false;
  scopes_.erase(it);
  return true;
}

const ScopeUsage* Keyspace::scope(std::string_view name) const {
  auto it = scopes_.find(name);
  return it == scopes_.end() ? nullptr : &it->second;
}

ScopeUsage Keyspace::recount_scope(std::string_view name) const {
  ScopeUsage usage;
  if (const ScopeUsage* known = scope(name)) usage.max_bytes = known->max_bytes;
  for (const auto& entry : entries_) {
    if (scope_name_of_key(entry.first) != name || name.empty()) continue;
    ++usage.keys;
    usage.charged_bytes += stored_entry_bytes(entry);
  }
  return usage;
}

size_t Keyspace::recount_bytes() const {
  size_t total = bucket_array_bytes(entries_);
  for (const auto& entry : entries_) total += stored_entry_bytes(entry);
  return total;
}

void Keyspace::charge(size_t before, size_t after) {
  charged_ = charged_ - before + after;
  memory_.update(MemoryAccount::Use::keyspace, before, after);
}

}  // namespace store
