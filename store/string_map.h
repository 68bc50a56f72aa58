#pragma once
// A hash map keyed by std::string that can be searched with a std::string_view,
// so looking a key or channel up never copies the caller's bytes.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace store {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace store
