// parse_request reads whatever a store client sends.
// Properties, for any bytes:
// - error: a message says why; incomplete: no arguments come out.
// - complete: 1 <= consumed <= size (an empty input is incomplete, and every
//   request, even an empty one such as "*0\r\n" or a blank line, takes at
//   least its terminator, so a complete parse always makes progress).
// - the parse looks no further than what it consumed: the consumed bytes
//   alone parse the same, and each shorter prefix is incomplete, never an
//   error (a client sending one byte at a time is never cut off).
// - the arguments, re-encoded as an array of bulk strings (as append_command
//   does), parse back to the same arguments and consume exactly that encoding.
// - tighter limits never accept what the defaults refuse, nor differently.

#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ipc/resp.h"

namespace resp = ipc::resp;

namespace {

struct Parsed {
  resp::ParseStatus status;
  std::vector<std::string> args;
  size_t consumed = 0;
  std::string error;
};

Parsed parse(std::string_view input, const resp::Limits& limits) {
  Parsed out;
  out.status = resp::parse_request(input, limits, out.args, out.consumed, out.error);
  return out;
}

void check_prefix_incomplete(std::string_view input, size_t length, const resp::Limits& limits) {
  Parsed prefix = parse(input.substr(0, length), limits);
  FUZZ_CHECK(prefix.status == resp::ParseStatus::incomplete);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const resp::Limits limits;
  Parsed parsed = parse(input, limits);
  switch (parsed.status) {
    case resp::ParseStatus::error:
      FUZZ_CHECK(!parsed.error.empty());
      return 0;
    case resp::ParseStatus::incomplete:
      FUZZ_CHECK(parsed.args.empty());
      return 0;
    case resp::ParseStatus::complete:
      break;
  }
  FUZZ_CHECK(parsed.consumed >= 1 && parsed.consumed <= size);

  Parsed again = parse(input.substr(0, parsed.consumed), limits);
  FUZZ_CHECK(again.status == resp::ParseStatus::complete);
  FUZZ_CHECK(again.consumed == parsed.consumed);
  FUZZ_CHECK(again.args == parsed.args);
  for (size_t length : {size_t{0}, parsed.consumed / 2, parsed.consumed - 1}) {
    check_prefix_incomplete(input, length, limits);
  }

  std::string encoded;
  resp::append_array_header(encoded, parsed.args.size());
  for (const auto& arg : parsed.args) resp::append_bulk_string(encoded, arg);
  Parsed round_trip = parse(encoded, limits);
  FUZZ_CHECK(round_trip.status == resp::ParseStatus::complete);
  FUZZ_CHECK(round_trip.consumed == encoded.size());
  FUZZ_CHECK(round_trip.args == parsed.args);

  resp::Limits tight;
  tight.max_bulk_bytes = 16;
  tight.max_array_elements = 4;
  tight.max_inline_bytes = 32;
  Parsed tightly = parse(input, tight);
  if (tightly.status == resp::ParseStatus::complete) {
    FUZZ_CHECK(tightly.consumed == parsed.consumed);
    FUZZ_CHECK(tightly.args == parsed.args);
  }
  return 0;
}
