#include "ipc/resp.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using ipc::resp::Limits;
using ipc::resp::ParseStatus;
using ipc::resp::Value;
using Type = ipc::resp::Value::Type;

namespace {

// A compact rendering of a Value for comparisons: +s -e :1 $b _ [a,b].
std::string render(const Value& value) {
  switch (value.type) {
    case Type::simple_string: return "+" + value.text;
    case Type::error: return "-" + value.text;
    case Type::integer: return ":" + std::to_string(value.integer);
    case Type::bulk_string: return "$" + value.text;
    case Type::null: return "_";
    case Type::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.elements.size(); ++i) {
        if (i > 0) out += ",";
        out += render(value.elements[i]);
      }
      return out + "]";
    }
  }
  return "?";
}

std::string join(const std::vector<std::string>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += "|";
    out += args[i];
  }
  return out;
}

struct Parsed {
  ParseStatus status;
  std::string rendered;  // the value, or the error text
  size_t consumed = 0;
};

Parsed value_of(std::string_view input, const Limits& limits = {}) {
  Value value;
  size_t consumed = 0;
  std::string error;
  auto status = ipc::resp::parse_value(input, limits, value, consumed, error);
  if (status == ParseStatus::complete) return {status, render(value), consumed};
  return {status, error, 0};
}

Parsed request_of(std::string_view input, const Limits& limits = {}) {
  std::vector<std::string> args;
  size_t consumed = 0;
  std::string error;
  auto status = ipc::resp::parse_request(input, limits, args, consumed, error);
  if (status == ParseStatus::complete) return {status, join(args), consumed};
  return {status, error, 0};
}

// Feeds `input` to the request parser the way a server does: the buffer grows
// by the given chunk sizes and complete requests are taken off its front.
std::vector<std::string> requests_fed_in_chunks(std::string_view input, const std::vector<size_t>& cuts) {
  std::vector<std::string> seen;
  std::string buffer;
  size_t fed = 0;
  auto drain = [&] {
    for (;;) {
      std::vector<std::string> args;
      size_t consumed = 0;
      std::string error;
      auto status = ipc::resp::parse_request(buffer, Limits{}, args, consumed, error);
      if (status == ParseStatus::error) FAIL("unexpected error: " << error);
      if (status != ParseStatus::complete) return;
      seen.push_back(join(args));
      buffer.erase(0, consumed);
    }
  };
  for (size_t cut : cuts) {
    buffer.append(input.substr(fed, cut - fed));
    fed = cut;
    drain();
  }
  buffer.append(input.substr(fed));
  drain();
  CHECK(buffer.empty());
  return seen;
}

}  // namespace

TEST_CASE("parse_value reads every reply type") {
  struct Case {
    std::string input;
    std::string expected;
  };
  const Case cases[] = {
      {"+OK\r\n", "+OK"},
      {"+\r\n", "+"},
      {"-ERR unknown command\r\n", "-ERR unknown command"},
      {":0\r\n", ":0"},
      {":-42\r\n", ":-42"},
      {":9223372036854775807\r\n", ":9223372036854775807"},
      {":-9223372036854775808\r\n", ":-9223372036854775808"},
      {"$3\r\nfoo\r\n", "$foo"},
      {"$0\r\n\r\n", "$"},
      {"$-1\r\n", "_"},
      {"*-1\r\n", "_"},
      {"*0\r\n", "[]"},
      {"*2\r\n$1\r\na\r\n:1\r\n", "[$a,:1]"},
      {"*3\r\n*1\r\n+x\r\n$-1\r\n*0\r\n", "[[+x],_,[]]"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = value_of(c.input);
    CHECK(parsed.status == ParseStatus::complete);
    CHECK(parsed.rendered == c.expected);
    CHECK(parsed.consumed == c.input.size());
  }
}

TEST_CASE("bulk strings are binary-safe") {
  std::string payload = "a\r\nb\0c\n\r"s;
  std::string input = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  Value value;
  size_t consumed = 0;
  std::string error;
  REQUIRE(ipc::resp::parse_value(input, Limits{}, value, consumed, error) == ParseStatus::complete);
  CHECK(value.type == Type::bulk_string);
  CHECK(value.text == payload);
  CHECK(consumed == input.size());
}

TEST_CASE("every proper prefix of a value is incomplete, never an error") {
  const std::string values[] = {
      "+OK\r\n",
      "-ERR x\r\n",
      ":-12345\r\n",
      "$5\r\nhello\r\n",
      "$0\r\n\r\n",
      "$-1\r\n",
      "*-1\r\n",
      "*3\r\n$3\r\nset\r\n$1\r\nk\r\n*2\r\n:1\r\n+a\r\n",
  };
  for (const auto& input : values) {
    for (size_t length = 0; length < input.size(); ++length) {
      CAPTURE(input);
      CAPTURE(length);
      CHECK(value_of(input.substr(0, length)).status == ParseStatus::incomplete);
    }
  }
}

TEST_CASE("parse_value takes one value off the front of pipelined input") {
  std::string input = "+OK\r\n:5\r\n$2\r\nhi\r\n*1\r\n$-1\r\n";
  std::vector<std::string> seen;
  std::string_view rest = input;
  while (!rest.empty()) {
    auto parsed = value_of(rest);
    REQUIRE(parsed.status == ParseStatus::complete);
    seen.push_back(parsed.rendered);
    rest.remove_prefix(parsed.consumed);
  }
  CHECK(seen == std::vector<std::string>{"+OK", ":5", "$hi", "[_]"});
}

TEST_CASE("parse_value rejects malformed input") {
  struct Case {
    std::string input;
    std::string error_contains;
  };
  const Case cases[] = {
      {"!oops\r\n", "unexpected type byte '!'"},
      {"\x01", "unexpected type byte '\\x01'"},
      {"$abc\r\n", "invalid bulk length 'abc'"},
      {"$+3\r\nfoo\r\n", "invalid bulk length '+3'"},
      {"$ 3\r\nfoo\r\n", "invalid bulk length ' 3'"},
      {"$\r\n", "invalid bulk length ''"},
      {"$-2\r\n", "invalid bulk length '-2'"},
      {"*-2\r\n", "invalid multibulk length '-2'"},
      {"*1x\r\n", "invalid multibulk length '1x'"},
      {"$3\r\nfooXY", "missing CRLF after bulk string"},
      {"$3\r\nfoo\rX", "missing CRLF after bulk string"},
      {"$3\r\nfoobar\r\n", "missing CRLF after bulk string"},
      {":12a\r\n", "invalid integer '12a'"},
      {":\r\n", "invalid integer ''"},
      {":99999999999999999999\r\n", "invalid integer"},
      {"+OK\n", "LF without CR"},
      {"+OK\rX\r\n", "CR without LF"},
      {"$123456789012345678901234\r\n", "bulk line longer than 20 bytes"},
      {"*2\r\n:1\r\n?\r\n", "unexpected type byte '?'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = value_of(c.input);
    CHECK(parsed.status == ParseStatus::error);
    CHECK(parsed.rendered.find(c.error_contains) != std::string::npos);
  }
}

TEST_CASE("parse_value enforces every limit") {
  Limits limits;
  limits.max_bulk_bytes = 4;
  limits.max_array_elements = 3;
  limits.max_inline_bytes = 5;
  limits.max_depth = 2;
  struct Case {
    std::string input;
    ParseStatus status;
    std::string expected;  // rendered value or error fragment
  };
  const Case cases[] = {
      {"$4\r\nabcd\r\n", ParseStatus::complete, "$abcd"},
      // Rejected from the header alone: no need to wait for the bytes.
      {"$5\r\n", ParseStatus::error, "bulk string of 5 bytes exceeds the limit of 4"},
      {"*3\r\n:1\r\n:2\r\n:3\r\n", ParseStatus::complete, "[:1,:2,:3]"},
      {"*4\r\n", ParseStatus::error, "array of 4 elements exceeds the limit of 3"},
      {"+abcde\r\n", ParseStatus::complete, "+abcde"},
      {"+abcdef\r\n", ParseStatus::error, "simple string line longer than 5 bytes"},
      {"+abcdef", ParseStatus::error, "simple string line longer than 5 bytes"},
      {"+abcde", ParseStatus::incomplete, ""},
      {"-abcdef", ParseStatus::error, "error line longer than 5 bytes"},
      {"*1\r\n*1\r\n:1\r\n", ParseStatus::complete, "[[:1]]"},
      {"*1\r\n*1\r\n*1\r\n", ParseStatus::error, "arrays nested deeper than 2 levels"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = value_of(c.input, limits);
    CHECK(parsed.status == c.status);
    if (c.status == ParseStatus::complete) CHECK(parsed.rendered == c.expected);
    if (c.status == ParseStatus::error) CHECK(parsed.rendered.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("default limits allow eight levels of nesting") {
  std::string eight, nine;
  for (int i = 0; i < 8; ++i) eight += "*1\r\n";
  eight += ":1\r\n";
  for (int i = 0; i < 9; ++i) nine += "*1\r\n";
  nine += ":1\r\n";
  CHECK(value_of(eight).status == ParseStatus::complete);
  CHECK(value_of(nine).status == ParseStatus::error);
}

TEST_CASE("parse_request reads arrays of bulk strings and inline commands") {
  struct Case {
    std::string input;
    std::string args;  // joined with '|'
    size_t consumed;
  };
  const Case cases[] = {
      {"*1\r\n$4\r\nPING\r\n", "PING", 14},
      {"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\"v\"\r\n", "SET|k|\"v\"", 29},
      {"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "ECHO|", 20},
      {"PING\r\n", "PING", 6},
      {"PING\n", "PING", 5},
      {"  SET   k\t3  \r\n", "SET|k|3", 15},
      {"SET k \"bob\"\r\n", "SET|k|\"bob\"", 13},
      {"\r\n", "", 2},
      {"\n", "", 1},
      {"   \r\n", "", 5},
      {"*0\r\n", "", 4},
      {"*-1\r\n", "", 5},
      {"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", "PING", 14},
      {"PING\r\nPING\r\n", "PING", 6},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = request_of(c.input);
    CHECK(parsed.status == ParseStatus::complete);
    CHECK(parsed.rendered == c.args);
    CHECK(parsed.consumed == c.consumed);
  }
}

TEST_CASE("every proper prefix of a request is incomplete") {
  const std::string requests[] = {
      "*3\r\n$3\r\nSET\r\n$5\r\ncount\r\n$1\r\n3\r\n",
      "GET count\r\n",
      "*0\r\n",
  };
  for (const auto& input : requests) {
    for (size_t length = 0; length < input.size(); ++length) {
      CAPTURE(input);
      CAPTURE(length);
      CHECK(request_of(input.substr(0, length)).status == ParseStatus::incomplete);
    }
  }
}

TEST_CASE("pipelined requests come out whole at every split point") {
  const std::string input =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n"
      "GET k\r\n"
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "\r\n"
      "*1\r\n$4\r\nPING\r\n";
  const std::vector<std::string> expected = {"SET|k|1", "GET|k", "GET|k", "", "PING"};
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    CAPTURE(cut);
    CHECK(requests_fed_in_chunks(input, {cut}) == expected);
  }
  for (size_t first = 0; first <= input.size(); first += 3) {
    for (size_t second = first; second <= input.size(); second += 5) {
      CAPTURE(first);
      CAPTURE(second);
      CHECK(requests_fed_in_chunks(input, {first, second}) == expected);
    }
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
  CHECK(requests_fed_in_chunks(input, every_byte) == expected);
}

TEST_CASE("parse_request rejects malformed requests") {
  struct Case {
    std::string input;
    std::string error_contains;
  };
  const Case cases[] = {
      {"*1\r\n:1\r\n", "expected '$', got ':'"},
      {"*2\r\n$3\r\nGET\r\n+k\r\n", "expected '$', got '+'"},
      {"*1\r\n$-1\r\n", "invalid bulk length -1 in a request"},
      {"*1\r\n$-5\r\n", "invalid bulk length '-5'"},
      {"*x\r\n", "invalid multibulk length 'x'"},
      {"*-2\r\n", "invalid multibulk length '-2'"},
      {"*1\r\n$3\r\nGETX\r\n", "missing CRLF after bulk string"},
      {"*1\r\n$3\r\nGET\n", "missing CRLF after bulk string"},
      {"*1\n", "multibulk line has LF without CR"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = request_of(c.input);
    CHECK(parsed.status == ParseStatus::error);
    CHECK(parsed.rendered.find(c.error_contains) != std::string::npos);
  }
}

TEST_CASE("parse_request enforces every limit") {
  Limits limits;
  limits.max_bulk_bytes = 4;
  limits.max_array_elements = 2;
  limits.max_inline_bytes = 8;
  struct Case {
    std::string input;
    ParseStatus status;
    std::string expected;
  };
  const Case cases[] = {
      {"*2\r\n$4\r\nabcd\r\n$0\r\n\r\n", ParseStatus::complete, "abcd|"},
      {"*1\r\n$5\r\n", ParseStatus::error, "bulk string of 5 bytes exceeds the limit of 4"},
      {"*3\r\n", ParseStatus::error, "array of 3 elements exceeds the limit of 2"},
      {"12345678\r\n", ParseStatus::complete, "12345678"},
      {"12345678\n", ParseStatus::complete, "12345678"},
      {"123456789\r\n", ParseStatus::error, "inline request longer than 8 bytes"},
      {"1234567890", ParseStatus::error, "inline request longer than 8 bytes"},
      {"123456789", ParseStatus::incomplete, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = request_of(c.input, limits);
    CHECK(parsed.status == c.status);
    if (c.status == ParseStatus::complete) CHECK(parsed.rendered == c.expected);
    if (c.status == ParseStatus::error) CHECK(parsed.rendered.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("a large bulk arriving in small pieces stays incomplete until whole") {
  std::string payload(1 << 20, 'x');
  std::string input = "*2\r\n$3\r\nSET\r\n$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  for (size_t length = 0; length < input.size(); length += 4093) {
    REQUIRE(request_of(std::string_view(input).substr(0, length)).status == ParseStatus::incomplete);
  }
  auto parsed = request_of(input);
  CHECK(parsed.status == ParseStatus::complete);
  CHECK(parsed.consumed == input.size());
}

TEST_CASE("encoders produce RESP2") {
  std::string out;
  ipc::resp::append_simple_string(out, "OK");
  CHECK(out == "+OK\r\n");
  out.clear();
  ipc::resp::append_simple_string(out, "line\r\nbreak");
  CHECK(out == "+line  break\r\n");
  out.clear();
  ipc::resp::append_error(out, "ERR bad\nthing");
  CHECK(out == "-ERR bad thing\r\n");
  out.clear();
  ipc::resp::append_integer(out, -9223372036854775807LL - 1);
  CHECK(out == ":-9223372036854775808\r\n");
  out.clear();
  ipc::resp::append_bulk_string(out, "a\r\nb");
  CHECK(out == "$4\r\na\r\nb\r\n");
  out.clear();
  ipc::resp::append_bulk_string(out, "");
  CHECK(out == "$0\r\n\r\n");
  out.clear();
  ipc::resp::append_null(out);
  CHECK(out == "$-1\r\n");
  out.clear();
  ipc::resp::append_array_header(out, 12);
  CHECK(out == "*12\r\n");
  out.clear();
  ipc::resp::append_command(out, {"SET", "count", "3"});
  CHECK(out == "*3\r\n$3\r\nSET\r\n$5\r\ncount\r\n$1\r\n3\r\n");
}

TEST_CASE("encoded commands and replies parse back") {
  std::string out;
  ipc::resp::append_command(out, {"PUBLISH", "news", "{\"a\":1}"});
  CHECK(request_of(out).rendered == "PUBLISH|news|{\"a\":1}");
  out.clear();
  ipc::resp::append_array_header(out, 3);
  ipc::resp::append_bulk_string(out, "message");
  ipc::resp::append_null(out);
  ipc::resp::append_integer(out, 7);
  CHECK(value_of(out).rendered == "[$message,_,:7]");
}
