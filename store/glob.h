#pragma once
// The pattern language of Redis's KEYS: * ? [abc] [a-z] [^a] and \x to match x
// literally. Byte-wise and case-sensitive, as in Redis.

#include <cstdint>
#include <string_view>

namespace store {

enum class GlobResult { no_match, match, out_of_budget };

// Never backtracks exponentially: every token but '*' matches exactly one
// byte, so on a mismatch it is enough to retry from the latest star. That is
// still O(pattern x text) per key ("*aaaa...b" against "aaaa..."), and KEYS
// runs it on every key, which is how a crafted pattern could stall the store
// (Redis's CVE-2022-36021 is the same class). So the work is metered: each
// token tried against a text byte costs its length in pattern bytes (a
// bracket class is scanned whole), a run of stars its length, a mismatch past
// the pattern's end one; the steps are taken from `budget`, and the result is
// out_of_budget, with `budget` 0, once it cannot pay. At most
// (text + 1) x (pattern + 2) steps per call (the store_glob fuzz target
// checks it).
GlobResult glob_match(std::string_view pattern, std::string_view text, uint64_t& budget);

// Unmetered, for callers whose inputs are bounded.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace store
