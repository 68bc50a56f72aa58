#include "store/glob.h"

#include <limits>
#include <utility>

namespace store {
namespace {

// Matches the bracket class starting at pattern[pos] == '[' against `c`; `next`
// is set to the index after the class. Like Redis, a class left open at the end
// of the pattern ends there, and "\x" inside a class stands for x.
bool match_class(std::string_view pattern, size_t pos, unsigned char c, size_t& next) {
  size_t i = pos + 1;
  bool negate = i < pattern.size() && pattern[i] == '^';
  if (negate) ++i;
  bool matched = false;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      ++i;
      matched = matched || static_cast<unsigned char>(pattern[i]) == c;
      ++i;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      auto low = static_cast<unsigned char>(pattern[i]);
      auto high = static_cast<unsigned char>(pattern[i + 2]);
      if (low > high) std::swap(low, high);
      matched = matched || (c >= low && c <= high);
      i += 3;
    } else {
      matched = matched || static_cast<unsigned char>(pattern[i]) == c;
      ++i;
    }
  }
  next = i < pattern.size() ? i + 1 : i;
  return matched != negate;
}

// Matches the single-character token at pattern[pos] (anything but '*').
bool match_token(std::string_view pattern, size_t pos, unsigned char c, size_t& next) {
  switch (pattern[pos]) {
    case '?':
      next = pos + 1;
      return true;
    case '[':
      return match_class(pattern, pos, c, next);
    case '\\':
      // A trailing backslash matches itself.
      if (pos + 1 < pattern.size()) ++pos;
      [[fallthrough]];
    default:
      next = pos + 1;
      return static_cast<unsigned char>(pattern[pos]) == c;
  }
}

}  // namespace

GlobResult glob_match(std::string_view pattern, std::string_view text, uint64_t& budget) {
  constexpr size_t kNone = std::string_view::npos;
  size_t p = 0;
  size_t t = 0;
  size_t star_p = kNone;
  size_t star_t = 0;
  // Charges `cost` steps; false once the budget cannot pay.
  auto spend = [&](uint64_t cost) {
    if (budget < cost) {
      budget = 0;
      return false;
    }
    budget -= cost;
    return true;
  };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      size_t first = p;
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (!spend(p - first)) return GlobResult::out_of_budget;
      // Nothing after the stars: they swallow whatever is left.
      if (p == pattern.size()) return GlobResult::match;
      star_p = p;
      star_t = t;
      continue;
    }
    size_t next = p;
    bool matched = p < pattern.size() && match_token(pattern, p, static_cast<unsigned char>(text[t]), next);
    // A token costs its length (a bracket class is scanned whole); running
    // off the end of the pattern costs one.
    if (!spend(next > p ? next - p : 1)) return GlobResult::out_of_budget;
    if (matched) {
      p = next;
      ++t;
      continue;
    }
    if (star_p == kNone) return GlobResult::no_match;
    p = star_p;
    t = ++star_t;
  }
  size_t first = p;
  while (p < pattern.size() && pattern[p] == '*') ++p;
  if (!spend(p - first)) return GlobResult::out_of_budget;
  return p == pattern.size() ? GlobResult::match : GlobResult::no_match;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  uint64_t unlimited = std::numeric_limits<uint64_t>::max();
  return glob_match(pattern, text, unlimited) == GlobResult::match;
}

}  // namespace store
