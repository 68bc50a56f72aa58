#pragma once
// RESP2, the Redis protocol: the wire format of the shared store, so redis-cli
// (and later a real Redis or Valkey) can speak to it. Incremental parsing:
// callers append bytes to a buffer and parse complete values off its front.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace ipc::resp {

struct Limits {
  size_t max_bulk_bytes = 8 * 1024 * 1024;    // one bulk string
  size_t max_array_elements = 1024 * 1024;    // one array (a command's arguments)
  size_t max_inline_bytes = 64 * 1024;        // one inline command line, one simple string
  size_t max_depth = 8;                       // nested arrays in replies
};

struct Value {
  enum class Type { simple_string, error, integer, bulk_string, null, array };
  Type type = Type::null;
  std::string text;           // simple_string, error (without the leading '-'), bulk_string
  int64_t integer = 0;        // integer
  std::vector<Value> elements;  // array
};

enum class ParseStatus { complete, incomplete, error };

// Parses one reply of any type from the front of `input`. On complete, `consumed`
// is the number of bytes it took. On error, `error` says what was wrong and the
// connection can no longer be trusted to be in sync.
ParseStatus parse_value(std::string_view input, const Limits& limits, Value& out, size_t& consumed,
                        std::string& error);

// Parses one client request: an array of bulk strings, or an inline command
// (space-separated words ending in \r\n or \n, as typed in telnet). An empty
// inline line yields complete with empty `args`, which callers skip.
ParseStatus parse_request(std::string_view input, const Limits& limits, std::vector<std::string>& args,
                          size_t& consumed, std::string& error);

void append_simple_string(std::string& out, std::string_view text);
// `message` starts with the error code, e.g. "ERR unknown command 'x'".
void append_error(std::string& out, std::string_view message);
void append_integer(std::string& out, int64_t value);
void append_bulk_string(std::string& out, std::string_view text);
void append_null(std::string& out);  // the null bulk string "$-1\r\n"
void append_array_header(std::string& out, size_t count);
// A command as clients send it: an array of bulk strings.
void append_command(std::string& out, std::initializer_list<std::string_view> args);

}  // namespace ipc::resp
