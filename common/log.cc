#include "common/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace common::log {
namespace {

Level g_min_level = Level::info;
std::string g_process_fields;
Sink g_sink = nullptr;

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void append_timestamp(std::string& out) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[40];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
  out += buf;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn" || text == "warning") return Level::warn;
  if (text == "error") return Level::error;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

void set_min_level(Level level) { g_min_level = level; }
Level min_level() { return g_min_level; }
bool enabled(Level level) { return static_cast<int>(level) >= static_cast<int>(g_min_level); }

void add_process_field(std::string_view key, std::string_view value) {
  g_process_fields += ' ';
  g_process_fields += key;
  g_process_fields += '=';
  append_value(g_process_fields, value);
}

void append_value(std::string& out, std::string_view value) {
  if (!needs_quotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

Line::Line(Level level, std::string_view event) : enabled_(enabled(level)) {
  if (!enabled_) return;
  text_.reserve(160);
  text_ += "ts=";
  append_timestamp(text_);
  text_ += " level=";
  text_ += level_name(level);
  text_ += " event=";
  append_value(text_, event);
  text_ += g_process_fields;
}

Line::~Line() {
  if (!enabled_) return;
  text_ += '\n';
  write_line(text_);
}

void write_to_stderr(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a logging failure.
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

void set_sink(Sink sink) { g_sink = sink; }

void write_line(std::string_view line) {
  if (g_sink != nullptr) {
    g_sink(line);
  } else {
    write_to_stderr(line);
  }
}

Line& Line::kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  text_ += ' ';
  text_ += key;
  text_ += '=';
  append_value(text_, value);
  return *this;
}

Line& Line::kv_raw(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  text_ += ' ';
  text_ += key;
  text_ += '=';
  text_ += value;
  return *this;
}

Line& Line::kv(std::string_view key, double value) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f", value);
  return kv_raw(key, buf);
}

Line& Line::err(int errnum) {
  char buf[128];
  // GNU strerror_r returns the message pointer (maybe not buf).
  const char* text = strerror_r(errnum, buf, sizeof buf);
  kv("error", text);
  return kv("errno", errnum);
}

}  // namespace common::log
