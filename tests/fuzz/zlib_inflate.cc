// node:zlib's decompressors read whatever a peer sends a handler (a gzip
// request body, a compressed frame). The engine driver around zlib and brotli
// (worker/zlib_engine.cc: unzip's detection, gzip members, dictionaries) is
// driven here as worker/js/zlib.js drives it: input in chunks, output in
// steps of bounded space, then the finish.
//
// Input: byte 0 picks the decompressor and a dictionary, byte 1 the input
// chunk and output step sizes; the rest is the compressed stream.
// Properties: a step never reports more input consumed or output produced
// than it was given; the driver stops at its output bound; and whatever the
// compressors (deflate, gzip, raw, brotli) make of the same bytes decodes
// back to them exactly, through the matching decompressor and through unzip.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "worker/zlib_engine.h"

namespace {

using worker::compression::BrotliEngine;
using worker::compression::Engine;
using worker::compression::Mode;
using worker::compression::ZlibEngine;

constexpr int kNoFlush = 0;
constexpr int kFinish = 4;
constexpr int kBrotliProcess = 0;
constexpr int kBrotliFinish = 2;
constexpr size_t kOutputBound = 1 << 20;  // as maxOutputLength would stop it

// Runs `input` through the engine as zlib.js does; false on an engine error.
bool drive(Engine& engine, bool brotli, std::span<const uint8_t> input, size_t chunk, size_t step,
           std::vector<uint8_t>& output) {
  std::vector<uint8_t> space(step);
  size_t offset = 0;
  for (;;) {
    bool last = offset + chunk >= input.size();
    std::span<const uint8_t> in = input.subspan(offset, std::min(chunk, input.size() - offset));
    offset += in.size();
    int flush = last ? (brotli ? kBrotliFinish : kFinish) : (brotli ? kBrotliProcess : kNoFlush);
    for (;;) {
      engine.write(flush, in, space);
      FUZZ_CHECK(engine.avail_in() <= in.size());
      FUZZ_CHECK(engine.avail_out() <= space.size());
      if (engine.error()) return false;
      size_t produced = space.size() - engine.avail_out();
      output.insert(output.end(), space.begin(), space.begin() + static_cast<ptrdiff_t>(produced));
      if (output.size() > kOutputBound) return false;
      in = in.subspan(in.size() - engine.avail_in());
      if (engine.avail_out() != 0) break;
    }
    if (last) return true;
  }
}

std::unique_ptr<Engine> make(Mode mode, std::vector<uint8_t> dictionary, int level = 6) {
  if (mode == Mode::brotli_decode || mode == Mode::brotli_encode) {
    std::vector<int64_t> params(10, -1);
    if (mode == Mode::brotli_encode) params[1] = level % 12;  // quality
    return BrotliEngine::create(mode, params);
  }
  bool inflating = mode == Mode::inflate || mode == Mode::gunzip || mode == Mode::unzip;
  return std::make_unique<ZlibEngine>(mode, inflating ? 0 : 15, level, 8, 0, std::move(dictionary));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Mode decoders[] = {Mode::inflate, Mode::gunzip, Mode::inflate_raw, Mode::unzip, Mode::brotli_decode};
  Mode mode = decoders[data[0] % 5];
  bool with_dictionary = (data[0] & 0x80) != 0;
  size_t chunk = 1 + (data[1] & 0x0f) * 97;
  size_t step = 64 + ((data[1] >> 4) & 0x0f) * 211;
  std::span<const uint8_t> body(data + 2, size - 2);
  std::vector<uint8_t> dictionary;
  if (with_dictionary) dictionary = {'d', 'i', 'c', 't'};

  // Arbitrary bytes through a decompressor: no crash, bounded output.
  {
    auto engine = make(mode, dictionary);
    FUZZ_CHECK(engine != nullptr);
    std::vector<uint8_t> output;
    drive(*engine, mode == Mode::brotli_decode, body, chunk, step, output);
    FUZZ_CHECK(output.size() <= kOutputBound + step);
  }

  // The same bytes compressed and decompressed come back unchanged.
  if (body.size() > 4096) body = body.first(4096);
  const std::pair<Mode, Mode> pairs[] = {{Mode::deflate, Mode::inflate},
                                         {Mode::gzip, Mode::gunzip},
                                         {Mode::deflate_raw, Mode::inflate_raw},
                                         {Mode::gzip, Mode::unzip},
                                         {Mode::deflate, Mode::unzip},
                                         {Mode::brotli_encode, Mode::brotli_decode}};
  const auto& [encoder_mode, decoder_mode] = pairs[data[1] % 6];
  bool brotli = encoder_mode == Mode::brotli_encode;
  int level = brotli ? data[0] % 12 : static_cast<int>(data[0] % 10);
  // gzip streams carry no dictionary (zlib refuses one for them).
  bool gzip = encoder_mode == Mode::gzip;
  auto encoder = make(encoder_mode, brotli || gzip ? std::vector<uint8_t>{} : dictionary, level);
  std::vector<uint8_t> compressed;
  FUZZ_CHECK(encoder != nullptr);
  FUZZ_CHECK(drive(*encoder, brotli, body, chunk, step, compressed));
  if (encoder_mode == Mode::gzip && (data[0] & 0x40) != 0) {
    // Two members: gunzip and unzip decode both.
    std::vector<uint8_t> twice = compressed;
    twice.insert(twice.end(), compressed.begin(), compressed.end());
    compressed = std::move(twice);
  }
  auto decoder = make(decoder_mode, brotli || gzip ? std::vector<uint8_t>{} : dictionary);
  std::vector<uint8_t> decompressed;
  FUZZ_CHECK(decoder != nullptr);
  FUZZ_CHECK(drive(*decoder, brotli, compressed, chunk, step, decompressed));
  std::vector<uint8_t> expected(body.begin(), body.end());
  if (encoder_mode == Mode::gzip && (data[0] & 0x40) != 0) expected.insert(expected.end(), body.begin(), body.end());
  FUZZ_CHECK(decompressed == expected);
  return 0;
}
