// CIDR blocks come from manifests and `access` exports.
// Properties: the input as text either fails with an error message or parses
// into a block whose text parses back into the same block (and the same
// text); the input as bytes describes a set of blocks and queries on which
// CidrSet's contains and covers agree with the linear reference.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "policy/ip_address.h"
#include "tests/unit/naive_cidr_set.h"

namespace {

using policy::Cidr;
using policy::IpAddress;

void check_round_trip(std::string_view text) {
  std::string error;
  auto block = policy::parse_cidr(text, error);
  if (!block) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  FUZZ_CHECK(block->prefix <= block->network.bits());
  std::string written = block->to_string();
  std::string again_error;
  auto again = policy::parse_cidr(written, again_error);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->network == block->network);
  FUZZ_CHECK(again->prefix == block->prefix);
  FUZZ_CHECK(again->to_string() == written);
  // A block contains its own network address.
  FUZZ_CHECK(block->contains(block->network));
  FUZZ_CHECK(block->covers(*block));
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return offset_ >= size_; }
  uint8_t byte() { return offset_ < size_ ? data_[offset_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

// An address near one of a few bases, so that blocks overlap, nest and
// adjoin often, or (selector 7) any address at all.
IpAddress address(Reader& in) {
  uint8_t selector = in.byte();
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
  switch (selector % 8) {
    case 0: v4 = true; bytes = {10, 0}; break;
    case 1: v4 = true; break;
    case 2: v4 = true; bytes = {255, 255}; break;
    case 3: bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0}; break;
    case 4: bytes = {0x20, 0x01, 0x0d, 0xb8}; break;
    case 5: bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; break;
    case 6: bytes.fill(0xff); break;
    case 7:
      v4 = selector & 8;
      for (size_t i = 0; i < (v4 ? 4u : 16u); ++i) bytes[i] = in.byte();
      return v4 ? IpAddress::v4(bytes.data()) : IpAddress::v6(bytes.data());
  }
  size_t length = v4 ? 4 : 16;
  bytes[length - 2] = in.byte();
  bytes[length - 1] = in.byte();
  return v4 ? IpAddress::v4(bytes.data()) : IpAddress::v6(bytes.data());
}

// A block as parse_cidr makes them: host bits clear. Prefixes cluster near
// the bottom of the family, where the bases differ.
Cidr block(Reader& in) {
  IpAddress network = address(in);
  uint8_t raw = in.byte();
  size_t bits = network.bits();
  size_t prefix = raw & 0x80 ? raw % (bits + 1) : bits - raw % 20;
  for (size_t bit = prefix; bit < bits; ++bit) network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  return Cidr{network, static_cast<uint8_t>(prefix)};
}

// The block next to `b` with the same prefix: together they make its parent.
Cidr sibling(Cidr b) {
  if (b.prefix > 0) b.network.bytes[(b.prefix - 1) / 8] ^= static_cast<uint8_t>(0x80 >> ((b.prefix - 1) % 8));
  return b;
}

// `b` widened by `bits` (at most to /0).
Cidr widened(Cidr b, size_t bits) {
  b.prefix = static_cast<uint8_t>(b.prefix > bits ? b.prefix - bits : 0);
  for (size_t bit = b.prefix; bit < b.network.bits(); ++bit) {
    b.network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  return b;
}

// The first or last address of `b`, or the one just outside it.
IpAddress edge(const Cidr& b, uint8_t which) {
  IpAddress a = b.network;
  if (which & 1) {
    for (size_t bit = b.prefix; bit < a.bits(); ++bit) a.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  if (which & 2) {
    int delta = (which & 1) ? 1 : -1;
    for (size_t i = a.bits() / 8; i-- > 0;) {
      uint8_t before = a.bytes[i];
      a.bytes[i] = static_cast<uint8_t>(before + delta);
      if ((delta > 0 && before != 0xFF) || (delta < 0 && before != 0)) break;
    }
  }
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_round_trip(std::string_view(reinterpret_cast<const char*>(data), size));

  // Blocks: random ones, and siblings of earlier ones, so that some regions
  // are covered only by several blocks together.
  Reader in(data, size);
  std::vector<Cidr> blocks;
  for (size_t n = in.byte() % 33; n > 0; --n) {
    uint8_t op = in.byte();
    if (op % 4 == 0 && !blocks.empty()) {
      blocks.push_back(sibling(blocks[(op / 4) % blocks.size()]));
    } else {
      blocks.push_back(block(in));
    }
  }
  policy::CidrSet set(blocks);
  FUZZ_CHECK(set.blocks().size() == blocks.size());
  FUZZ_CHECK(set.range_count() <= blocks.size());
  for (const auto& b : blocks) {
    FUZZ_CHECK(set.covers(b));
    FUZZ_CHECK(set.contains(b.network));
  }
  // Queries: random ones, and the parents and edges of the blocks.
  for (int queries = 0; !in.done() && queries < 64; ++queries) {
    uint8_t op = in.byte();
    const Cidr* near = blocks.empty() ? nullptr : &blocks[(op / 4) % blocks.size()];
    IpAddress a = near && (op & 1) ? edge(*near, in.byte()) : address(in);
    FUZZ_CHECK(set.contains(a) == naive::contains(blocks, a));
    Cidr b = near && (op & 2) ? widened(*near, 1 + in.byte() % 4) : block(in);
    FUZZ_CHECK(set.covers(b) == naive::covers(blocks, b));
  }
  return 0;
}
