#include "store/keyspace.h"

#include "store/glob.h"

namespace store {

const std::string* Keyspace::find(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

bool Keyspace::set(std::string_view key, std::string_view value) {
  auto it = entries_.find(key);
  size_t released = it == entries_.end() ? 0 : key.size() + it->second.size();
  size_t needed = key.size() + value.size();
  if (used_bytes_ - released + needed > max_bytes_) return false;
  if (it == entries_.end()) {
    entries_.emplace(key, value);
  } else {
    it->second.assign(value);
  }
  used_bytes_ = used_bytes_ - released + needed;
  return true;
}

bool Keyspace::erase(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  used_bytes_ -= it->first.size() + it->second.size();
  entries_.erase(it);
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

}  // namespace store
