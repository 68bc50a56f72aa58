#include "store/command_rules.h"

#include <charconv>
#include <cstdint>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "ipc/resp.h"

namespace store {
namespace {

// Redis caps what it quotes back from a client in error messages.
constexpr size_t kMaxQuotedBytes = 128;

// A decimal u64, as Redis's string2ull reads a cursor: digits only, no sign.
bool parse_cursor(std::string_view text, uint64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Worded exactly as Redis 7 words it, so tools that recognise Redis errors keep working.
std::string unknown_command_error(std::span<const std::string> args) {
  std::string quoted;
  for (size_t i = 1; i < args.size() && quoted.size() < kMaxQuotedBytes; ++i) {
    size_t room = kMaxQuotedBytes - quoted.size();
    quoted += '\'';
    quoted += std::string_view(args[i]).substr(0, room);
    quoted += "' ";
  }
  return "ERR unknown command '" + std::string(std::string_view(args[0]).substr(0, kMaxQuotedBytes)) +
         "', with args beginning with: " + quoted;
}

}  // namespace

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string arity_error(std::string_view command_name) {
  return "ERR wrong number of arguments for '" + std::string(command_name) + "' command";
}

CommandCheck check_command(std::span<const CommandRule> table, std::span<const std::string> args, bool subscribe_mode) {
  CommandCheck check;
  const CommandRule* rule = nullptr;
  for (const auto& candidate : table) {
    if (equals_ignoring_case(candidate.name, args[0])) {
      rule = &candidate;
      break;
    }
  }
  if (rule == nullptr) {
    check.error = unknown_command_error(args);
    return check;
  }
  auto argc = static_cast<int64_t>(args.size());
  if ((rule->arity > 0 && argc != rule->arity) || argc < -rule->arity) {
    check.error = arity_error(rule->name);
    return check;
  }
  if (subscribe_mode && !rule->allowed_in_subscribe_mode) {
    check.error = "ERR Can't execute '" + std::string(rule->name) +
                  "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";
    return check;
  }
  check.rule = rule;
  return check;
}

bool parse_set_options(std::span<const std::string> args, bool& only_if_absent, bool& only_if_present) {
  only_if_absent = only_if_present = false;
  for (size_t i = 3; i < args.size(); ++i) {
    if (equals_ignoring_case(args[i], "nx") && !only_if_present) {
      only_if_absent = true;
    } else if (equals_ignoring_case(args[i], "xx") && !only_if_absent) {
      only_if_present = true;
    } else {
      return false;
    }
  }
  return true;
}

bool parse_scan_options(std::span<const std::string> args, ScanOptions& options, std::string& error) {
  options = {};
  uint64_t cursor = 0;
  if (!parse_cursor(args[1], cursor)) {
    error = "ERR invalid cursor";
    return false;
  }
  options.from_start = cursor == 0;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) {
      error = "ERR syntax error";
      return false;
    }
    const std::string& value = args[i + 1];
    if (equals_ignoring_case(args[i], "match")) {
      options.pattern = value;
    } else if (equals_ignoring_case(args[i], "count")) {
      int64_t count = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
      if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
        error = "ERR value is not an integer or out of range";
        return false;
      }
      if (count < 1) {
        error = "ERR syntax error";
        return false;
      }
    } else if (equals_ignoring_case(args[i], "type")) {
      options.strings = equals_ignoring_case(value, "string");
    } else {
      error = "ERR syntax error";
      return false;
    }
  }
  return true;
}

void append_scan_reply_header(std::string& reply, size_t count) {
  ipc::resp::append_array_header(reply, 2);
  ipc::resp::append_bulk_string(reply, "0");
  ipc::resp::append_array_header(reply, count);
}

bool is_json(std::string_view text) { return nlohmann::json::accept(text); }

void append_command_reply(std::span<const std::string> args, size_t command_count, std::string& reply) {
  namespace resp = ipc::resp;
  // redis-cli asks for COMMAND DOCS when its interactive mode starts and carries
  // on with any array. With an empty one its `help <command>` shows nothing (an
  // error reply would make it fall back to its built-in help).
  if (args.size() == 1 || equals_ignoring_case(args[1], "docs")) {
    resp::append_array_header(reply, 0);
  } else if (equals_ignoring_case(args[1], "count") && args.size() == 2) {
    resp::append_integer(reply, static_cast<int64_t>(command_count));
  } else {
    resp::append_error(reply, "ERR unknown subcommand '" + std::string(std::string_view(args[1]).substr(0, kMaxQuotedBytes)) +
                                  "'. Try COMMAND HELP.");
  }
}

std::string human_bytes(size_t bytes) {
  static constexpr const char* kUnits[] = {"K", "M", "G", "T", "P"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f%s", value, kUnits[unit]);
  return buf;
}

bool InfoText::wanted(std::string_view section) const {
  if (sections_.empty()) return true;
  for (const auto& requested : sections_) {
    if (equals_ignoring_case(requested, section) || equals_ignoring_case(requested, "all") ||
        equals_ignoring_case(requested, "default") || equals_ignoring_case(requested, "everything")) {
      return true;
    }
  }
  return false;
}

void InfoText::header(std::string_view name) {
  if (!text_.empty()) text_ += "\r\n";
  text_ += "# ";
  text_ += name;
  text_ += "\r\n";
}

void InfoText::field(std::string_view key, std::string_view value) {
  text_ += key;
  text_ += ':';
  text_ += value;
  text_ += "\r\n";
}

}  // namespace store
