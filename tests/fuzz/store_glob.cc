// KEYS patterns come from any store client. Differential: glob_match against
// a reference written the plain way (the pattern compiled to a list of
// tokens, each a set of bytes or a star, then matched by dynamic
// programming), on inputs short enough for the reference.
// Properties, besides agreeing with the reference:
// - the metered matcher agrees with the unmetered one given enough budget,
//   and spends at most (text + 1) x (pattern + 2) steps (glob.h);
// - with any budget it either agrees or reports out_of_budget, having spent
//   all of it.
//
// Input: one byte for the pattern's length, then the pattern, then the text.

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "store/glob.h"

namespace {

struct Token {
  bool star = false;
  std::bitset<256> bytes;  // what a non-star token matches
};

// The language of glob.h: * ? [set] [^set] [a-z] (ends reversed are swapped;
// the range wins over a ']' as its end, as in Redis), a backslash and x for x,
// a backslash at the very end for itself, a backslash and x inside a set for
// x, and a set left open at the end.
std::vector<Token> compile(std::string_view pattern) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < pattern.size()) {
    Token token;
    auto c = static_cast<unsigned char>(pattern[i]);
    if (c == '*') {
      token.star = true;
      ++i;
    } else if (c == '?') {
      token.bytes.set();
      ++i;
    } else if (c == '\\') {
      size_t literal = i + 1 < pattern.size() ? i + 1 : i;
      token.bytes.set(static_cast<unsigned char>(pattern[literal]));
      i = literal + 1;
    } else if (c == '[') {
      ++i;
      bool negate = i < pattern.size() && pattern[i] == '^';
      if (negate) ++i;
      while (i < pattern.size() && pattern[i] != ']') {
        auto first = static_cast<unsigned char>(pattern[i]);
        if (first == '\\' && i + 1 < pattern.size()) {
          token.bytes.set(static_cast<unsigned char>(pattern[i + 1]));
          i += 2;
        } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
          auto low = first;
          auto high = static_cast<unsigned char>(pattern[i + 2]);
          if (low > high) std::swap(low, high);
          for (unsigned b = low; b <= high; ++b) token.bytes.set(b);
          i += 3;
        } else {
          token.bytes.set(first);
          ++i;
        }
      }
      if (i < pattern.size()) ++i;  // the ']'
      if (negate) token.bytes.flip();
    } else {
      token.bytes.set(c);
      ++i;
    }
    tokens.push_back(token);
  }
  return tokens;
}

bool reference_match(std::string_view pattern, std::string_view text) {
  auto tokens = compile(pattern);
  // matches[j]: tokens[i..] match text[j..], filled from the last token back.
  std::vector<char> next(text.size() + 1, 0);
  next[text.size()] = 1;
  for (size_t i = tokens.size(); i-- > 0;) {
    std::vector<char> current(text.size() + 1, 0);
    for (size_t j = text.size() + 1; j-- > 0;) {
      if (tokens[i].star) {
        current[j] = next[j] || (j < text.size() && current[j + 1]);
      } else {
        current[j] = j < text.size() && tokens[i].bytes.test(static_cast<unsigned char>(text[j])) && next[j + 1];
      }
    }
    next = std::move(current);
  }
  return next[0] != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t pattern_length = std::min<size_t>(data[0], rest.size());
  std::string_view pattern = rest.substr(0, pattern_length);
  std::string_view text = rest.substr(pattern_length);
  if (text.size() > 512) text = text.substr(0, 512);

  bool expected = reference_match(pattern, text);
  FUZZ_CHECK(store::glob_match(pattern, text) == expected);

  constexpr uint64_t kPlenty = uint64_t{1} << 62;
  uint64_t budget = kPlenty;
  auto metered = store::glob_match(pattern, text, budget);
  FUZZ_CHECK(metered == (expected ? store::GlobResult::match : store::GlobResult::no_match));
  uint64_t spent = kPlenty - budget;
  FUZZ_CHECK(spent <= (text.size() + 1) * (pattern.size() + 2));

  // Any smaller budget: the same answer, or out of budget with none left.
  for (uint64_t smaller : {spent / 2, spent > 0 ? spent - 1 : 0, spent}) {
    uint64_t left = smaller;
    auto result = store::glob_match(pattern, text, left);
    if (result == store::GlobResult::out_of_budget) {
      FUZZ_CHECK(left == 0);
      FUZZ_CHECK(smaller < spent);
    } else {
      FUZZ_CHECK(result == metered);
      FUZZ_CHECK(smaller - left == spent);
    }
  }
  return 0;
}
