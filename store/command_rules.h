#pragma once
// What the embedded store and the store relay (store/relay/) agree on, so a
// client sees the same commands, the same checks in the same order and the
// same error texts from either: the command table's shape, Redis 7's
// wording of errors, SET's options, the JSON rule for values and messages,
// COMMAND's answer and INFO's text format.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace store {

// One command as both servers know it.
struct CommandRule {
  std::string_view name;  // lowercase, as Redis names commands in errors
  int arity;              // Redis's convention: n = exactly n words, -n = at least n
  bool allowed_in_subscribe_mode;
};

bool equals_ignoring_case(std::string_view a, std::string_view b);

// The rule for `args[0]` in `table`, or the error to reply with, checked in
// Redis's order: existence, arity, then subscribe mode. `args` is not empty.
struct CommandCheck {
  const CommandRule* rule = nullptr;  // set when `error` is empty
  std::string error;                  // without the leading '-'
};
CommandCheck check_command(std::span<const CommandRule> table, std::span<const std::string> args, bool subscribe_mode);

std::string arity_error(std::string_view command_name);

// SET key value [NX|XX]: reads the options after the value. False: a syntax
// error (an unknown word, or NX with XX).
bool parse_set_options(std::span<const std::string> args, bool& only_if_absent, bool& only_if_present);

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], read as Redis reads
// it. Both stores answer a SCAN from cursor 0 whole, in one reply whose
// cursor is 0 (SCAN's contract allows it: COUNT is a hint), bounded like
// KEYS; every other cursor is one they never gave, and ends the iteration.
struct ScanOptions {
  bool from_start = true;          // the cursor is 0
  std::string_view pattern = "*";  // MATCH, a view into the request
  bool strings = true;             // no TYPE, or TYPE string: every value here is a string
};
// False with Redis's error (without the leading '-') for a bad cursor, an
// option without its value, a COUNT that is not a positive integer, or an
// unknown option.
bool parse_scan_options(std::span<const std::string> args, ScanOptions& options, std::string& error);
// The start of a SCAN reply holding `count` names, with cursor 0: the
// names follow as bulk strings.
void append_scan_reply_header(std::string& reply, size_t count);

// Values and published messages must be JSON text, because ctx.shared
// parses what it reads back: checking on the way in keeps one bad writer
// (redis-cli, say) from breaking every handler that reads the key.
bool is_json(std::string_view text);
inline constexpr std::string_view kNotJsonError = "ERR value is not valid JSON";

// COMMAND, COMMAND DOCS and COMMAND COUNT as redis-cli asks them, for a
// table of `command_count` commands: appends the reply.
void append_command_reply(std::span<const std::string> args, size_t command_count, std::string& reply);

// Redis's bytesToHuman: "1.50M".
std::string human_bytes(size_t bytes);

// INFO's text: the sections asked for (all when none is named), each a
// header and lines of `field:value`.
class InfoText {
 public:
  explicit InfoText(std::span<const std::string> sections) : sections_(sections) {}

  bool wanted(std::string_view section) const;
  void header(std::string_view name);
  void field(std::string_view key, std::string_view value);
  // Redis omits db0 while it is empty; printing keys=0 lets a script read the
  // count without a special case.
  void keyspace(size_t keys) { field("db0", "keys=" + std::to_string(keys) + ",expires=0,avg_ttl=0"); }
  std::string take() { return std::move(text_); }

 private:
  std::span<const std::string> sections_;
  std::string text_;
};

}  // namespace store
