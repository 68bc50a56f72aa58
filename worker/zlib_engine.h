#pragma once
// The compression engines behind node:zlib, without any JavaScript: zlib
// (deflate, inflate, gzip, gunzip, raw deflate and inflate, and unzip, which
// detects gzip or zlib from the first bytes) and brotli. Each engine is one
// stream: write() runs it once over the input into the output space given,
// exactly as Node's binding does per call, and error() then says whether that
// step failed, with Node's message, code and errno.
//
// Node's behaviour kept here: a gzip stream may hold several members (each
// one decoded in turn; trailing zero bytes are padding, anything else must be
// another member); a zlib stream that asks for a dictionary gets the one given
// (or fails with "Missing dictionary" / "Bad dictionary"); input that ends
// before the stream does fails with "unexpected end of file" once the caller
// says it is finishing.
//
// Pure C++ (no engine, no libuv): the fuzz target links it alone.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace worker::compression {

// Node's mode numbers (zlib.constants.DEFLATE ... BROTLI_ENCODE).
enum class Mode : int {
  none = 0,
  deflate = 1,
  inflate = 2,
  gzip = 3,
  gunzip = 4,
  deflate_raw = 5,
  inflate_raw = 6,
  unzip = 7,
  brotli_decode = 8,
  brotli_encode = 9,
};

struct Error {
  std::string message;
  std::string code;  // "Z_DATA_ERROR", "ERR__ERROR_FORMAT_PADDING_1", ...
  int errno_value = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // One step: consumes from `in` and fills `out` as far as the library goes
  // with `flush` (a zlib flush value, or a brotli operation). Afterwards
  // avail_in()/avail_out() say what is left of each. Never throws.
  virtual void write(int flush, std::span<const uint8_t> in, std::span<uint8_t> out) = 0;
  // The last step's failure, if it failed.
  virtual std::optional<Error> error() const = 0;
  // Back to a fresh stream, with the same options.
  virtual std::optional<Error> reset() = 0;
  size_t avail_in() const { return avail_in_; }
  size_t avail_out() const { return avail_out_; }

 protected:
  size_t avail_in_ = 0;
  size_t avail_out_ = 0;
};

class ZlibEngine final : public Engine {
 public:
  // Values as Node validates them in JavaScript: window_bits 8..15 (0 lets
  // inflate take the window from the header), level -1..9, mem_level 1..9,
  // strategy 0..4. The library is initialised at the first step.
  ZlibEngine(Mode mode, int window_bits, int level, int mem_level, int strategy, std::vector<uint8_t> dictionary);
  ~ZlibEngine() override;

  void write(int flush, std::span<const uint8_t> in, std::span<uint8_t> out) override;
  std::optional<Error> error() const override;
  std::optional<Error> reset() override;
  // deflateParams() for the deflating modes; nothing for the others.
  std::optional<Error> params(int level, int strategy);

 private:
  struct Stream;
  bool initialise();
  std::optional<Error> set_dictionary();
  std::optional<Error> error_for(const char* message) const;
  void run();

  Mode mode_;
  int window_bits_;
  int level_;
  int mem_level_;
  int strategy_;
  std::vector<uint8_t> dictionary_;
  std::unique_ptr<Stream> stream_;  // the z_stream, ended by its destructor
  bool initialised_ = false;
  std::optional<Error> init_error_;
  int err_ = 0;
  int flush_ = 0;
  int gzip_magic_read_ = 0;  // unzip: how many of the two gzip magic bytes were seen
};

class BrotliEngine final : public Engine {
 public:
  // `params`: index = parameter number, value -1 = not set. Returns nullptr
  // when the library refuses a parameter (Node: ERR_ZLIB_INITIALIZATION_FAILED).
  static std::unique_ptr<BrotliEngine> create(Mode mode, std::span<const int64_t> params);
  ~BrotliEngine() override;

  void write(int flush, std::span<const uint8_t> in, std::span<uint8_t> out) override;
  std::optional<Error> error() const override;
  std::optional<Error> reset() override;

 private:
  struct State;
  explicit BrotliEngine(Mode mode);
  bool start();  // a fresh instance with params_

  Mode mode_;
  std::vector<int64_t> params_;
  std::unique_ptr<State> state_;  // the encoder or decoder instance, destroyed with it
  int flush_ = 0;
  int last_result_ = 0;
  int decoder_error_ = 0;
};

// crc32 of `data` continuing from `value` (zlib.crc32).
uint32_t crc32(std::span<const uint8_t> data, uint32_t value);

// The linked zlib's ZLIB_VERNUM.
int zlib_version_number();

}  // namespace worker::compression
