#include <doctest/doctest.h>

#include <numeric>
#include <unordered_set>

#include "common/keyed_hash.h"

TEST_CASE("siphash24 matches the reference vectors of the SipHash paper") {
  common::SipKey key{};
  std::iota(key.begin(), key.end(), uint8_t{0});
  uint8_t message[15];
  std::iota(std::begin(message), std::end(message), uint8_t{0});
  // Appendix A of the paper: key 00..0f, message 00..0e.
  CHECK(common::siphash24(key, message, sizeof message) == 0xa129ca6149be45e5ull);
  // The first line of the reference implementation's vectors (empty input).
  CHECK(common::siphash24(key, message, 0) == 0x726fdb47dd0e0e31ull);
}

TEST_CASE("the process key is random and stable within the process") {
  const auto& first = common::process_hash_key();
  CHECK(&first == &common::process_hash_key());
  common::SipKey zero{};
  CHECK(first != zero);
  CHECK(common::keyed_hash("abc", 3) == common::keyed_hash("abc", 3));
  CHECK(common::KeyedStringHash{}("abc") == common::keyed_hash("abc", 3));
}

TEST_CASE("keyed hashes spread sequential keys") {
  std::unordered_set<uint64_t> seen;
  for (uint32_t i = 0; i < 10000; ++i) seen.insert(common::keyed_hash(&i, sizeof i));
  CHECK(seen.size() == 10000);
}
