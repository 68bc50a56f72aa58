#pragma once
// Structured logging: one logfmt line (key=value ...) per event on stderr, written
// with a single write(2) so lines from the supervisor, workers and the store never
// interleave mid-line.

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common::log {

enum class Level : int { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<Level> parse_level(std::string_view text);
std::string_view level_name(Level level);

void set_min_level(Level level);
Level min_level();
bool enabled(Level level);

// A key=value pair appended to every line of this process (a worker sets
// handler=<name>, so each of its lines names the handler).
void add_process_field(std::string_view key, std::string_view value);

// Formats `value` as a logfmt value: bare when safe, quoted and escaped otherwise.
void append_value(std::string& out, std::string_view value);

// Where finished lines (newline included) go. By default each is written to
// stderr at once, blocking; the supervisor installs an asynchronous writer
// (supervisor/log_writer.h) so that a slow reader of its stderr never stalls
// its event loop. Not thread-safe to change while lines are being written.
using Sink = void (*)(std::string_view line);
void set_sink(Sink sink);  // nullptr: back to the default
// A finished line from elsewhere (a child's output the supervisor relays).
void write_line(std::string_view line);
// The default: write(2) to stderr until all of it is written.
void write_to_stderr(std::string_view text);

class Line {
 public:
  Line(Level level, std::string_view event);
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  ~Line();

  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, bool value) { return kv(key, std::string_view(value ? "true" : "false")); }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  Line& kv(std::string_view key, T value) {
    return kv_raw(key, std::to_string(value));
  }
  Line& kv(std::string_view key, double value);
  // The pair only when `value` is not empty (tenant=, on lines about a
  // tenant's handler and never on the operator's).
  Line& kv_nonempty(std::string_view key, std::string_view value) { return value.empty() ? *this : kv(key, value); }
  // errno text under key "error" (and the number under "errno").
  Line& err(int errnum);

 private:
  Line& kv_raw(std::string_view key, std::string_view value);
  bool enabled_;
  std::string text_;
};

inline Line debug(std::string_view event) { return Line(Level::debug, event); }
inline Line info(std::string_view event) { return Line(Level::info, event); }
inline Line warn(std::string_view event) { return Line(Level::warn, event); }
inline Line error(std::string_view event) { return Line(Level::error, event); }

}  // namespace common::log
