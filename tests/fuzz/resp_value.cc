// parse_value reads the store's replies (in workers and tools), which a
// compromised store could shape at will.
// Properties, for any bytes:
// - error: a message says why; complete: 1 <= consumed <= size, and arrays
//   nest no deeper than the limit.
// - the consumed bytes alone parse the same; shorter prefixes are incomplete.
// - the value re-encoded with the append_* encoders parses back to an equal
//   value, consuming exactly the encoding (a null array comes back as a null
//   bulk string: RESP2 clients treat both as nil).
// - tighter limits never accept what the defaults refuse, nor differently.

#include <algorithm>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "ipc/resp.h"

namespace resp = ipc::resp;

namespace {

struct Parsed {
  resp::ParseStatus status;
  resp::Value value;
  size_t consumed = 0;
  std::string error;
};

Parsed parse(std::string_view input, const resp::Limits& limits) {
  Parsed out;
  out.status = resp::parse_value(input, limits, out.value, out.consumed, out.error);
  return out;
}

bool equal(const resp::Value& a, const resp::Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case resp::Value::Type::simple_string:
    case resp::Value::Type::error:
    case resp::Value::Type::bulk_string:
      return a.text == b.text;
    case resp::Value::Type::integer:
      return a.integer == b.integer;
    case resp::Value::Type::null:
      return true;
    case resp::Value::Type::array:
      if (a.elements.size() != b.elements.size()) return false;
      for (size_t i = 0; i < a.elements.size(); ++i) {
        if (!equal(a.elements[i], b.elements[i])) return false;
      }
      return true;
  }
  return false;
}

size_t nesting(const resp::Value& value) {
  if (value.type != resp::Value::Type::array) return 0;
  size_t deepest = 0;
  for (const auto& element : value.elements) deepest = std::max(deepest, nesting(element));
  return deepest + 1;
}

void encode(const resp::Value& value, std::string& out) {
  switch (value.type) {
    case resp::Value::Type::simple_string:
      resp::append_simple_string(out, value.text);
      break;
    case resp::Value::Type::error:
      resp::append_error(out, value.text);
      break;
    case resp::Value::Type::integer:
      resp::append_integer(out, value.integer);
      break;
    case resp::Value::Type::bulk_string:
      resp::append_bulk_string(out, value.text);
      break;
    case resp::Value::Type::null:
      resp::append_null(out);
      break;
    case resp::Value::Type::array:
      resp::append_array_header(out, value.elements.size());
      for (const auto& element : value.elements) encode(element, out);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const resp::Limits limits;
  Parsed parsed = parse(input, limits);
  if (parsed.status == resp::ParseStatus::error) FUZZ_CHECK(!parsed.error.empty());
  if (parsed.status != resp::ParseStatus::complete) return 0;
  FUZZ_CHECK(parsed.consumed >= 1 && parsed.consumed <= size);
  FUZZ_CHECK(nesting(parsed.value) <= limits.max_depth);

  Parsed again = parse(input.substr(0, parsed.consumed), limits);
  FUZZ_CHECK(again.status == resp::ParseStatus::complete);
  FUZZ_CHECK(again.consumed == parsed.consumed);
  FUZZ_CHECK(equal(again.value, parsed.value));
  for (size_t length : {size_t{0}, parsed.consumed / 2, parsed.consumed - 1}) {
    FUZZ_CHECK(parse(input.substr(0, length), limits).status == resp::ParseStatus::incomplete);
  }

  std::string encoded;
  encode(parsed.value, encoded);
  Parsed round_trip = parse(encoded, limits);
  FUZZ_CHECK(round_trip.status == resp::ParseStatus::complete);
  FUZZ_CHECK(round_trip.consumed == encoded.size());
  FUZZ_CHECK(equal(round_trip.value, parsed.value));

  resp::Limits tight;
  tight.max_bulk_bytes = 16;
  tight.max_array_elements = 4;
  tight.max_inline_bytes = 32;
  tight.max_depth = 2;
  Parsed tightly = parse(input, tight);
  if (tightly.status == resp::ParseStatus::complete) {
    FUZZ_CHECK(tightly.consumed == parsed.consumed);
    FUZZ_CHECK(equal(tightly.value, parsed.value));
  }
  return 0;
}
