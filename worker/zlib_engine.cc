#include "worker/zlib_engine.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <string>

namespace worker::compression {
namespace {

constexpr uint8_t kGzipMagic1 = 0x1f;
constexpr uint8_t kGzipMagic2 = 0x8b;

const char* zlib_code_name(int err) {
  switch (err) {
    case Z_OK: return "Z_OK";
    case Z_STREAM_END: return "Z_STREAM_END";
    case Z_NEED_DICT: return "Z_NEED_DICT";
    case Z_ERRNO: return "Z_ERRNO";
    case Z_STREAM_ERROR: return "Z_STREAM_ERROR";
    case Z_DATA_ERROR: return "Z_DATA_ERROR";
    case Z_MEM_ERROR: return "Z_MEM_ERROR";
    case Z_BUF_ERROR: return "Z_BUF_ERROR";
    case Z_VERSION_ERROR: return "Z_VERSION_ERROR";
    default: return "Z_UNKNOWN_ERROR";
  }
}

// Node's code for a brotli decoder error: "ERR_" and the name brotli 1.1
// gives (prefix included; 1.0.9's BrotliDecoderErrorString drops it).
std::string brotli_error_code(int code) {
  struct Name {
    int code;
    const char* name;
  };
  static const Name names[] = {
      {BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_NIBBLE, "_ERROR_FORMAT_EXUBERANT_NIBBLE"},
      {BROTLI_DECODER_ERROR_FORMAT_RESERVED, "_ERROR_FORMAT_RESERVED"},
      {BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_META_NIBBLE, "_ERROR_FORMAT_EXUBERANT_META_NIBBLE"},
      {BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_ALPHABET, "_ERROR_FORMAT_SIMPLE_HUFFMAN_ALPHABET"},
      {BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_SAME, "_ERROR_FORMAT_SIMPLE_HUFFMAN_SAME"},
      {BROTLI_DECODER_ERROR_FORMAT_CL_SPACE, "_ERROR_FORMAT_CL_SPACE"},
      {BROTLI_DECODER_ERROR_FORMAT_HUFFMAN_SPACE, "_ERROR_FORMAT_HUFFMAN_SPACE"},
      {BROTLI_DECODER_ERROR_FORMAT_CONTEXT_MAP_REPEAT, "_ERROR_FORMAT_CONTEXT_MAP_REPEAT"},
      {BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_1, "_ERROR_FORMAT_BLOCK_LENGTH_1"},
      {BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_2, "_ERROR_FORMAT_BLOCK_LENGTH_2"},
      {BROTLI_DECODER_ERROR_FORMAT_TRANSFORM, "_ERROR_FORMAT_TRANSFORM"},
      {BROTLI_DECODER_ERROR_FORMAT_DICTIONARY, "_ERROR_FORMAT_DICTIONARY"},
      {BROTLI_DECODER_ERROR_FORMAT_WINDOW_BITS, "_ERROR_FORMAT_WINDOW_BITS"},
      {BROTLI_DECODER_ERROR_FORMAT_PADDING_1, "_ERROR_FORMAT_PADDING_1"},
      {BROTLI_DECODER_ERROR_FORMAT_PADDING_2, "_ERROR_FORMAT_PADDING_2"},
      {BROTLI_DECODER_ERROR_FORMAT_DISTANCE, "_ERROR_FORMAT_DISTANCE"},
      {BROTLI_DECODER_ERROR_DICTIONARY_NOT_SET, "_ERROR_DICTIONARY_NOT_SET"},
      {BROTLI_DECODER_ERROR_INVALID_ARGUMENTS, "_ERROR_INVALID_ARGUMENTS"},
      {BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES, "_ERROR_ALLOC_CONTEXT_MODES"},
      {BROTLI_DECODER_ERROR_ALLOC_TREE_GROUPS, "_ERROR_ALLOC_TREE_GROUPS"},
      {BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MAP, "_ERROR_ALLOC_CONTEXT_MAP"},
      {BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_1, "_ERROR_ALLOC_RING_BUFFER_1"},
      {BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_2, "_ERROR_ALLOC_RING_BUFFER_2"},
      {BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES, "_ERROR_ALLOC_BLOCK_TYPE_TREES"},
      {BROTLI_DECODER_ERROR_UNREACHABLE, "_ERROR_UNREACHABLE"},
  };
  for (const Name& entry : names) {
    if (entry.code == code) return std::string("ERR_") + entry.name;
  }
  return std::string("ERR_") + BrotliDecoderErrorString(static_cast<BrotliDecoderErrorCode>(code));
}

bool deflating(Mode mode) { return mode == Mode::deflate || mode == Mode::gzip || mode == Mode::deflate_raw; }

uInt clamp_uint(size_t n) { return static_cast<uInt>(std::min<size_t>(n, UINT_MAX)); }

}  // namespace

// --- zlib ------------------------------------------------------------------------------

struct ZlibEngine::Stream {
  z_stream z{};
  bool deflate_open = false;
  bool inflate_open = false;
  ~Stream() {
    if (deflate_open) deflateEnd(&z);
    if (inflate_open) inflateEnd(&z);
  }
};

ZlibEngine::ZlibEngine(Mode mode, int window_bits, int level, int mem_level, int strategy,
                       std::vector<uint8_t> dictionary)
    : mode_(mode),
      window_bits_(window_bits),
      level_(level),
      mem_level_(mem_level),
      strategy_(strategy),
      dictionary_(std::move(dictionary)),
      stream_(std::make_unique<Stream>()) {
  // As Node: the wrapper is chosen through the window bits.
  if (mode_ == Mode::gzip || mode_ == Mode::gunzip) window_bits_ += 16;
  if (mode_ == Mode::unzip) window_bits_ += 32;
  if (mode_ == Mode::deflate_raw || mode_ == Mode::inflate_raw) window_bits_ *= -1;
}

ZlibEngine::~ZlibEngine() = default;

bool ZlibEngine::initialise() {
  if (initialised_ || init_error_) return false;
  z_stream& z = stream_->z;
  if (deflating(mode_)) {
    int bits = window_bits_;
    // zlib 1.2.13 refuses a window of 256 bytes without the zlib wrapper
    // (it always uses 512 bytes for 8 anyway); Node's zlib accepts it.
    if (bits == -8) bits = -9;
    if (bits == 16 + 8) bits = 16 + 9;
    err_ = deflateInit2(&z, level_, Z_DEFLATED, bits, mem_level_, strategy_);
    stream_->deflate_open = err_ == Z_OK;
  } else {
    err_ = inflateInit2(&z, window_bits_);
    stream_->inflate_open = err_ == Z_OK;
  }
  if (err_ != Z_OK) {
    init_error_ = error_for("Init error");
    mode_ = Mode::none;
    return true;
  }
  initialised_ = true;
  if (auto failure = set_dictionary()) init_error_ = failure;
  return true;
}

std::optional<Error> ZlibEngine::set_dictionary() {
  if (dictionary_.empty()) return std::nullopt;
  z_stream& z = stream_->z;
  err_ = Z_OK;
  if (deflating(mode_)) {
    err_ = deflateSetDictionary(&z, dictionary_.data(), clamp_uint(dictionary_.size()));
  } else if (mode_ == Mode::inflate_raw) {
    // Raw streams carry no dictionary request: set it up front.
    err_ = inflateSetDictionary(&z, dictionary_.data(), clamp_uint(dictionary_.size()));
  }
  if (err_ != Z_OK) return error_for("Failed to set dictionary");
  return std::nullopt;
}

std::optional<Error> ZlibEngine::error_for(const char* message) const {
  const z_stream& z = stream_->z;
  Error error;
  error.message = z.msg != nullptr ? z.msg : message;
  error.code = zlib_code_name(err_);
  error.errno_value = err_;
  return error;
}

void ZlibEngine::write(int flush, std::span<const uint8_t> in, std::span<uint8_t> out) {
  z_stream& z = stream_->z;
  flush_ = flush;
  uInt in_given = clamp_uint(in.size());
  uInt out_given = clamp_uint(out.size());
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = in_given;
  z.next_out = out.data();
  z.avail_out = out_given;
  initialise();
  if (init_error_) {
    avail_in_ = in.size();
    avail_out_ = out.size();
    return;
  }
  run();
  avail_in_ = in.size() - (in_given - z.avail_in);
  avail_out_ = out.size() - (out_given - z.avail_out);
}

void ZlibEngine::run() {
  z_stream& z = stream_->z;
  switch (mode_) {
    case Mode::deflate:
    case Mode::gzip:
    case Mode::deflate_raw:
      err_ = deflate(&z, flush_);
      return;
    case Mode::unzip:
      // Which wrapper: gzip if the stream starts with its two magic bytes
      // (which may arrive in separate writes), zlib otherwise. zlib decodes
      // either; knowing it is gzip allows further members below.
      if (z.avail_in > 0) {
        const Bytef* next = z.next_in;
        const Bytef* end = z.next_in + z.avail_in;
        if (gzip_magic_read_ == 0 && next < end) {
          if (*next == kGzipMagic1) {
            gzip_magic_read_ = 1;
            ++next;
          } else {
            mode_ = Mode::inflate;
          }
        }
        if (gzip_magic_read_ == 1 && mode_ == Mode::unzip && next < end) {
          if (*next == kGzipMagic2) {
            gzip_magic_read_ = 2;
            mode_ = Mode::gunzip;
          } else {
            mode_ = Mode::inflate;
          }
        }
      }
      [[fallthrough]];
    case Mode::inflate:
    case Mode::gunzip:
    case Mode::inflate_raw:
      err_ = inflate(&z, flush_);
      if (mode_ != Mode::inflate_raw && err_ == Z_NEED_DICT && !dictionary_.empty()) {
        err_ = inflateSetDictionary(&z, dictionary_.data(), clamp_uint(dictionary_.size()));
        if (err_ == Z_OK) {
          err_ = inflate(&z, flush_);
        } else if (err_ == Z_DATA_ERROR) {
          // The dictionary's checksum does not match: say so, not "bad input".
          err_ = Z_NEED_DICT;
        }
      }
      // Another gzip member follows (or garbage, which fails as a bad
      // header); zero bytes after a member are padding.
      while (z.avail_in > 0 && mode_ == Mode::gunzip && err_ == Z_STREAM_END && z.next_in[0] != 0x00) {
        Bytef* next_in = z.next_in;
        uInt avail_in = z.avail_in;
        Bytef* next_out = z.next_out;
        uInt avail_out = z.avail_out;
        err_ = inflateReset(&z);
        z.next_in = next_in;
        z.avail_in = avail_in;
        z.next_out = next_out;
        z.avail_out = avail_out;
        if (err_ != Z_OK) return;
        err_ = inflate(&z, flush_);
      }
      return;
    case Mode::none:
    case Mode::brotli_decode:
    case Mode::brotli_encode:
      return;
  }
}

std::optional<Error> ZlibEngine::error() const {
  if (init_error_) return init_error_;
  const z_stream& z = stream_->z;
  switch (err_) {
    case Z_OK:
    case Z_BUF_ERROR:
      // Output space left and the caller finishing: the input ended early.
      if (z.avail_out != 0 && flush_ == Z_FINISH) return error_for("unexpected end of file");
      return std::nullopt;
    case Z_STREAM_END:
      return std::nullopt;
    case Z_NEED_DICT:
      return error_for(dictionary_.empty() ? "Missing dictionary" : "Bad dictionary");
    default:
      return error_for("Zlib error");
  }
}

std::optional<Error> ZlibEngine::reset() {
  bool first = initialise();
  if (init_error_) {
    if (first) {
      Error error = *init_error_;
      error.message = "Failed to init stream before reset";
      return error;
    }
    return init_error_;
  }
  z_stream& z = stream_->z;
  err_ = Z_OK;
  switch (mode_) {
    case Mode::deflate:
    case Mode::deflate_raw:
    case Mode::gzip:
      err_ = deflateReset(&z);
      break;
    case Mode::inflate:
    case Mode::inflate_raw:
    case Mode::gunzip:
      err_ = inflateReset(&z);
      break;
    default:
      break;
  }
  if (err_ != Z_OK) return error_for("Failed to reset stream");
  return set_dictionary();
}

std::optional<Error> ZlibEngine::params(int level, int strategy) {
  initialise();
  if (init_error_) return init_error_;
  if (!deflating(mode_)) return std::nullopt;
  err_ = deflateParams(&stream_->z, level, strategy);
  if (err_ != Z_OK && err_ != Z_BUF_ERROR) return error_for("Failed to set parameters");
  return std::nullopt;
}

// --- brotli -------------------------------------------------------------------------------

struct BrotliEngine::State {
  BrotliEncoderState* encoder = nullptr;
  BrotliDecoderState* decoder = nullptr;
  ~State() {
    if (encoder != nullptr) BrotliEncoderDestroyInstance(encoder);
    if (decoder != nullptr) BrotliDecoderDestroyInstance(decoder);
  }
};

BrotliEngine::BrotliEngine(Mode mode) : mode_(mode), state_(std::make_unique<State>()) {}

BrotliEngine::~BrotliEngine() = default;

std::unique_ptr<BrotliEngine> BrotliEngine::create(Mode mode, std::span<const int64_t> params) {
  std::unique_ptr<BrotliEngine> engine(new BrotliEngine(mode));
  engine->params_.assign(params.begin(), params.end());
  if (!engine->start()) return nullptr;
  return engine;
}

bool BrotliEngine::start() {
  auto state = std::make_unique<State>();
  if (mode_ == Mode::brotli_encode) {
    state->encoder = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    if (state->encoder == nullptr) return false;
  } else {
    state->decoder = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    if (state->decoder == nullptr) return false;
  }
  for (size_t key = 0; key < params_.size(); ++key) {
    int64_t value = params_[key];
    if (value == -1) continue;
    if (value < 0 || value > UINT32_MAX) return false;
    bool ok = mode_ == Mode::brotli_encode
                  ? BrotliEncoderSetParameter(state->encoder, static_cast<BrotliEncoderParameter>(key),
                                              static_cast<uint32_t>(value))
                  : BrotliDecoderSetParameter(state->decoder, static_cast<BrotliDecoderParameter>(key),
                                              static_cast<uint32_t>(value));
    if (!ok) return false;
  }
  state_ = std::move(state);
  last_result_ = 0;
  decoder_error_ = 0;
  return true;
}

void BrotliEngine::write(int flush, std::span<const uint8_t> in, std::span<uint8_t> out) {
  flush_ = flush;
  size_t avail_in = in.size();
  size_t avail_out = out.size();
  const uint8_t* next_in = in.data();
  uint8_t* next_out = out.data();
  if (mode_ == Mode::brotli_encode) {
    last_result_ = BrotliEncoderCompressStream(state_->encoder, static_cast<BrotliEncoderOperation>(flush), &avail_in,
                                               &next_in, &avail_out, &next_out, nullptr);
  } else {
    last_result_ = BrotliDecoderDecompressStream(state_->decoder, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    if (last_result_ == BROTLI_DECODER_RESULT_ERROR) decoder_error_ = BrotliDecoderGetErrorCode(state_->decoder);
  }
  avail_in_ = avail_in;
  avail_out_ = avail_out;
}

std::optional<Error> BrotliEngine::error() const {
  if (mode_ == Mode::brotli_encode) {
    if (!last_result_) return Error{"Compression failed", "ERR_BROTLI_COMPRESSION_FAILED", -1};
    return std::nullopt;
  }
  if (decoder_error_ != BROTLI_DECODER_NO_ERROR) {
    return Error{"Decompression failed", brotli_error_code(decoder_error_), decoder_error_};
  }
  if (flush_ == BROTLI_OPERATION_FINISH && last_result_ == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
    // Brotli cannot know the input ended: finishing with more needed is the end.
    return Error{"unexpected end of file", "Z_BUF_ERROR", Z_BUF_ERROR};
  }
  return std::nullopt;
}

std::optional<Error> BrotliEngine::reset() {
  if (!start()) return Error{"Initialization failed", "ERR_ZLIB_INITIALIZATION_FAILED", -1};
  return std::nullopt;
}

uint32_t crc32(std::span<const uint8_t> data, uint32_t value) {
  uLong crc = value;
  while (!data.empty()) {
    uInt n = clamp_uint(data.size());
    crc = ::crc32(crc, data.data(), n);
    data = data.subspan(n);
  }
  return static_cast<uint32_t>(crc);
}

int zlib_version_number() { return ZLIB_VERNUM; }

}  // namespace worker::compression
