#pragma once
// The pattern language of Redis's KEYS: * ? [abc] [a-z] [^a] and \x to match x
// literally. Byte-wise and case-sensitive, as in Redis.

#include <string_view>

namespace store {

// Runs in O(pattern * text) at worst: a pattern full of stars cannot make it
// backtrack exponentially.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace store
