#include "ipc/resp.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace ipc::resp {
namespace {

// Lengths and integers are at most "-9223372036854775808": 20 bytes. Bounding the
// search for their CRLF means a garbage header is rejected after a few bytes
// instead of after max_inline_bytes.
constexpr size_t kMaxNumberBytes = 20;

// Arrays announce their element count before the elements arrive; never reserve
// more than this up front, so "*1000000\r\n" alone cannot allocate much.
constexpr size_t kMaxReserveElements = 1024;

std::string printable_byte(char byte) {
  auto c = static_cast<unsigned char>(byte);
  if (c >= 0x20 && c < 0x7f) return std::string(1, byte);
  char buf[8];
  snprintf(buf, sizeof buf, "\\x%02x", c);
  return buf;
}

// Like Redis's string2ll: optional '-', digits, nothing else (no '+', no spaces).
bool parse_int64(std::string_view text, int64_t& value) {
  if (text.empty() || text[0] == '+') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

// Every parse runs twice: first without building anything, to learn whether a
// whole value is there, then (only if it is) building it. Callers re-parse the
// same growing buffer after every read, so an incomplete value must cost
// O(headers) rather than a copy of every bulk string received so far.
class Parser {
 public:
  Parser(std::string_view input, const Limits& limits, std::string& error)
      : in_(input), limits_(limits), error_(error) {}

  ParseStatus value(size_t& pos, Value* out, size_t depth) {
    if (pos >= in_.size()) return ParseStatus::incomplete;
    char type = in_[pos];
    std::string_view line;
    switch (type) {
      case '+':
      case '-': {
        auto status = read_line(pos + 1, limits_.max_inline_bytes,
                                type == '+' ? "simple string" : "error", line, pos);
        if (status == ParseStatus::complete && out != nullptr) {
          out->type = type == '+' ? Value::Type::simple_string : Value::Type::error;
          out->text.assign(line);
        }
        return status;
      }
      case ':': {
        auto status = read_line(pos + 1, kMaxNumberBytes, "integer", line, pos);
        if (status != ParseStatus::complete) return status;
        int64_t number = 0;
        if (!parse_int64(line, number)) return fail("invalid integer '" + std::string(line) + "'");
        if (out != nullptr) {
          out->type = Value::Type::integer;
          out->integer = number;
        }
        return status;
      }
      case '$': {
        int64_t length = 0;
        auto status = read_length(pos, "bulk", length);
        if (status != ParseStatus::complete) return status;
        if (length == -1) {
          if (out != nullptr) out->type = Value::Type::null;
          return status;
        }
        std::string_view bytes;
        status = read_bulk_body(pos, length, bytes);
        if (status == ParseStatus::complete && out != nullptr) {
          out->type = Value::Type::bulk_string;
          out->text.assign(bytes);
        }
        return status;
      }
      case '*': {
        int64_t count = 0;
        auto status = read_length(pos, "multibulk", count);
        if (status != ParseStatus::complete) return status;
        if (count == -1) {
          if (out != nullptr) out->type = Value::Type::null;
          return status;
        }
        if (static_cast<uint64_t>(count) > limits_.max_array_elements) return too_many_elements(count);
        if (depth + 1 > limits_.max_depth) {
          return fail("arrays nested deeper than " + std::to_string(limits_.max_depth) + " levels");
        }
        if (out != nullptr) {
          out->type = Value::Type::array;
          out->elements.clear();
          out->elements.reserve(std::min(static_cast<size_t>(count), kMaxReserveElements));
        }
        for (int64_t i = 0; i < count; ++i) {
          Value* element = nullptr;
          if (out != nullptr) element = &out->elements.emplace_back();
          status = value(pos, element, depth + 1);
          if (status != ParseStatus::complete) return status;
        }
        return ParseStatus::complete;
      }
      default:
        return fail("unexpected type byte '" + printable_byte(type) + "'");
    }
  }

  ParseStatus request(size_t& pos, std::vector<std::string>* args) {
    if (pos >= in_.size()) return ParseStatus::incomplete;
    if (in_[pos] != '*') return inline_request(pos, args);

    int64_t count = 0;
    auto status = read_length(pos, "multibulk", count);
    if (status != ParseStatus::complete) return status;
    // "*0" and "*-1" are empty requests; Redis skips them too.
    if (count <= 0) return ParseStatus::complete;
    if (static_cast<uint64_t>(count) > limits_.max_array_elements) return too_many_elements(count);
    if (args != nullptr) args->reserve(std::min(static_cast<size_t>(count), kMaxReserveElements));
    for (int64_t i = 0; i < count; ++i) {
      if (pos >= in_.size()) return ParseStatus::incomplete;
      if (in_[pos] != '$') return fail("expected '$', got '" + printable_byte(in_[pos]) + "'");
      int64_t length = 0;
      status = read_length(pos, "bulk", length);
      if (status != ParseStatus::complete) return status;
      if (length < 0) return fail("invalid bulk length " + std::to_string(length) + " in a request");
      std::string_view bytes;
      status = read_bulk_body(pos, length, bytes);
      if (status != ParseStatus::complete) return status;
      if (args != nullptr) args->emplace_back(bytes);
    }
    return ParseStatus::complete;
  }

 private:
  ParseStatus fail(std::string message) {
    error_ = std::move(message);
    return ParseStatus::error;
  }

  ParseStatus too_many_elements(int64_t count) {
    return fail("array of " + std::to_string(count) + " elements exceeds the limit of " +
                std::to_string(limits_.max_array_elements));
  }

  // The CRLF-terminated line starting at `start`, at most `max_bytes` long
  // (without the CRLF). CR and LF may only appear as that terminator.
  ParseStatus read_line(size_t start, size_t max_bytes, const char* what, std::string_view& line,
                        size_t& next) {
    size_t end = start + std::min(in_.size() - start, max_bytes + 1);
    for (size_t i = start; i < end; ++i) {
      if (in_[i] == '\n') return fail(std::string(what) + " line has LF without CR");
      if (in_[i] != '\r') continue;
      if (i + 1 >= in_.size()) return ParseStatus::incomplete;
      if (in_[i + 1] != '\n') return fail(std::string(what) + " line has CR without LF");
      line = in_.substr(start, i - start);
      next = i + 2;
      return ParseStatus::complete;
    }
    if (in_.size() - start > max_bytes) {
      return fail(std::string(what) + " line longer than " + std::to_string(max_bytes) + " bytes");
    }
    return ParseStatus::incomplete;
  }

  // "$<n>\r\n" or "*<n>\r\n" at `pos`; n is -1 (null) or non-negative.
  ParseStatus read_length(size_t& pos, const char* what, int64_t& length) {
    std::string_view line;
    size_t next = 0;
    auto status = read_line(pos + 1, kMaxNumberBytes, what, line, next);
    if (status != ParseStatus::complete) return status;
    if (!parse_int64(line, length) || length < -1) {
      return fail("invalid " + std::string(what) + " length '" + std::string(line) + "'");
    }
    pos = next;
    return ParseStatus::complete;
  }

  // The `length` bytes at `pos` and the CRLF after them. The size check comes
  // first so a large bulk arriving in small reads is never scanned.
  ParseStatus read_bulk_body(size_t& pos, int64_t length, std::string_view& bytes) {
    auto size = static_cast<uint64_t>(length);
    if (size > limits_.max_bulk_bytes) {
      return fail("bulk string of " + std::to_string(size) + " bytes exceeds the limit of " +
                  std::to_string(limits_.max_bulk_bytes));
    }
    size_t available = in_.size() - pos;
    if (available > size && in_[pos + size] != '\r') return fail("missing CRLF after bulk string");
    if (available < size + 2) return ParseStatus::incomplete;
    if (in_[pos + size + 1] != '\n') return fail("missing CRLF after bulk string");
    bytes = in_.substr(pos, size);
    pos += size + 2;
    return ParseStatus::complete;
  }

  // A line as typed in telnet: words separated by blanks. Quotes are not
  // interpreted, so JSON values such as "bob" can be typed as they are stored.
  ParseStatus inline_request(size_t& pos, std::vector<std::string>* args) {
    // Room for the line, an optional CR and the LF.
    size_t window = std::min(in_.size() - pos, limits_.max_inline_bytes + 2);
    const void* lf = std::memchr(in_.data() + pos, '\n', window);
    if (lf == nullptr) {
      if (in_.size() - pos >= limits_.max_inline_bytes + 2) return too_big_inline();
      return ParseStatus::incomplete;
    }
    size_t lf_pos = static_cast<size_t>(static_cast<const char*>(lf) - in_.data());
    std::string_view line = in_.substr(pos, lf_pos - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_inline_bytes) return too_big_inline();
    pos = lf_pos + 1;
    if (args == nullptr) return ParseStatus::complete;
    constexpr std::string_view kBlanks = " \t\r\v\f";
    size_t i = 0;
    while ((i = line.find_first_not_of(kBlanks, i)) != std::string_view::npos) {
      size_t end = std::min(line.find_first_of(kBlanks, i), line.size());
      args->emplace_back(line.substr(i, end - i));
      i = end;
    }
    return ParseStatus::complete;
  }

  ParseStatus too_big_inline() {
    return fail("inline request longer than " + std::to_string(limits_.max_inline_bytes) + " bytes");
  }

  std::string_view in_;
  const Limits& limits_;
  std::string& error_;
};

// CR or LF inside a one-line reply would end it early and desynchronise the
// client, so they become spaces (as Redis does with error texts).
void append_line(std::string& out, char type, std::string_view text) {
  out += type;
  size_t start = out.size();
  out += text;
  std::replace_if(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
                  [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out += "\r\n";
}

template <typename Integer>
void append_number_line(std::string& out, char type, Integer value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out += type;
  out.append(buf, end);
  out += "\r\n";
}

}  // namespace

ParseStatus parse_value(std::string_view input, const Limits& limits, Value& out, size_t& consumed,
                        std::string& error) {
  Parser parser(input, limits, error);
  size_t pos = 0;
  auto status = parser.value(pos, nullptr, 0);
  if (status != ParseStatus::complete) return status;
  out = Value{};
  pos = 0;
  parser.value(pos, &out, 0);
  consumed = pos;
  return status;
}

ParseStatus parse_request(std::string_view input, const Limits& limits, std::vector<std::string>& args,
                          size_t& consumed, std::string& error) {
  args.clear();
  Parser parser(input, limits, error);
  size_t pos = 0;
  auto status = parser.request(pos, nullptr);
  if (status != ParseStatus::complete) return status;
  pos = 0;
  parser.request(pos, &args);
  consumed = pos;
  return status;
}

void append_simple_string(std::string& out, std::string_view text) { append_line(out, '+', text); }

void append_error(std::string& out, std::string_view message) { append_line(out, '-', message); }

void append_integer(std::string& out, int64_t value) { append_number_line(out, ':', value); }

void append_bulk_string(std::string& out, std::string_view text) {
  append_number_line(out, '$', text.size());
  out += text;
  out += "\r\n";
}

void append_null(std::string& out) { out += "$-1\r\n"; }

void append_array_header(std::string& out, size_t count) { append_number_line(out, '*', count); }

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_array_header(out, args.size());
  for (auto arg : args) append_bulk_string(out, arg);
}

}  // namespace ipc::resp
