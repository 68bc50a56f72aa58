#include "store/keyspace.h"

#include "store/glob.h"

namespace store {
namespace {

size_t stored_entry_bytes(const Keyspace::Map::value_type& entry) {
  return hash_node_bytes<Keyspace::Map>() + string_heap_bytes(entry.first) +
         string_heap_bytes(entry.second);
}

}  // namespace

Keyspace::~Keyspace() { memory_.update(MemoryAccount::Use::keyspace, charged_, 0); }

size_t Keyspace::entry_bytes(size_t key_length, size_t value_length) {
  // A string built from a view of n bytes has capacity n exactly.
  return hash_node_bytes<Map>() + string_heap_bytes(key_length) + string_heap_bytes(value_length);
}

const std::string* Keyspace::find(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

bool Keyspace::set(std::string_view key, std::string_view value) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    size_t before = stored_entry_bytes(*it);
    if (!memory_.fits(entry_bytes(key.size(), value.size()), before)) return false;
    // A fresh string swapped in, not assign(): assigning keeps the old
    // capacity, so a value once large would go on holding its memory.
    std::string fresh(value);
    it->second.swap(fresh);
    charge(before, stored_entry_bytes(*it));
    return true;
  }
  size_t buckets_before = bucket_array_bytes(entries_);
  size_t needed = entry_bytes(key.size(), value.size()) + bucket_array_bytes_after_insert(entries_, 1);
  if (!memory_.fits(needed, buckets_before)) return false;
  prepare_insert(entries_, 1);
  auto added = entries_.emplace(key, value).first;
  charge(buckets_before, stored_entry_bytes(*added) + bucket_array_bytes(entries_));
  return true;
}

bool Keyspace::erase(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  size_t before = stored_entry_bytes(*it) + bucket_array_bytes(entries_);
  entries_.erase(it);
  shrink_after_erase(entries_);
  charge(before, bucket_array_bytes(entries_));
  return true;
}

std::optional<std::vector<std::string_view>> Keyspace::keys_matching(std::string_view pattern,
                                                                     uint64_t budget) const {
  std::vector<std::string_view> keys;
  bool everything = pattern == "*";
  for (const auto& [key, value] : entries_) {
    // Visiting a key is a step too, so even "*" over a huge keyspace is bounded.
    if (budget == 0) return std::nullopt;
    --budget;
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
