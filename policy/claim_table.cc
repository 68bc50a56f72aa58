#include "policy/claim_table.h"

#include <algorithm>

namespace policy {

ClaimTable::Outcome ClaimTable::claim(ClaimKey key, ClaimPriority priority) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (inserted || entry.holder.empty() || entry.holder == priority.file) {
    entry.holder = priority.file;
    return {true, {}};
  }
  // A file already waiting keeps its place: its priority is fixed when it first claims.
  bool waiting = std::any_of(entry.waiting.begin(), entry.waiting.end(),
                             [&](const ClaimPriority& p) { return p.file == priority.file; });
  if (!waiting) entry.waiting.insert(std::lower_bound(entry.waiting.begin(), entry.waiting.end(), priority), priority);
  return {false, entry.holder};
}

std::optional<std::string> ClaimTable::release(ClaimKey key, const std::string& file) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  Entry& entry = it->second;
  std::erase_if(entry.waiting, [&](const ClaimPriority& p) { return p.file == file; });
  if (entry.holder != file) return std::nullopt;
  if (entry.waiting.empty()) {
    entries_.erase(it);
    return std::nullopt;
  }
  entry.holder = entry.waiting.front().file;
  entry.waiting.erase(entry.waiting.begin());
  return entry.holder;
}

std::optional<std::string> ClaimTable::holder(ClaimKey key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.holder;
}

std::vector<std::string> ClaimTable::waiting(ClaimKey key) const {
  std::vector<std::string> files;
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    for (const auto& p : it->second.waiting) files.push_back(p.file);
  }
  return files;
}

}  // namespace policy
