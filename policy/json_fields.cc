#include "policy/json_fields.h"

namespace policy {

nlohmann::json parse_json_object(std::string_view text, bool allow_comments) {
  nlohmann::json document;
  bool too_deep = false;
  try {
    // Values past the limit are discarded as they are parsed (returning
    // false), so nothing deep is ever built.
    document = nlohmann::json::parse(text, [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > kMaxJsonDepth) too_deep = true;
      return !too_deep;
    }, /*allow_exceptions=*/true, /*ignore_comments=*/allow_comments);
  } catch (const nlohmann::json::exception& e) {
    // Syntax errors, and also numbers too large for a double ("1e400",
    // out_of_range.406): whatever the parser refuses is the document's fault,
    // and callers (some reading what untrusted workers send) catch only
    // JsonFieldError. e.what() is "[json.exception.parse_error.101] parse
    // error at line 1, column 2: ..."
    std::string message = e.what();
    auto pos = message.find("] ");
    throw JsonFieldError("/", pos == std::string::npos ? message : message.substr(pos + 2));
  }
  if (too_deep) {
    throw JsonFieldError("/", "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  require_object(document, "/");
  return document;
}

std::string child_path(std::string_view parent, std::string_view key) {
  std::string path(parent == "/" ? "" : parent);
  path += '/';
  // JSON Pointer escaping (RFC 6901), so a key containing '/' stays one segment.
  // Control characters are spelled out: a NUL would cut the error's message
  // short (what() is a C string), and the path goes to logs and terminals.
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '~') {
      path += "~0";
    } else if (c == '/') {
      path += "~1";
    } else if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      path += "\\u00";
      path += kHex[byte >> 4];
      path += kHex[byte & 15];
    } else {
      path += c;
    }
  }
  return path;
}

void require_object(const nlohmann::json& value, std::string_view path) {
  if (!value.is_object()) throw JsonFieldError(std::string(path), "must be an object");
}

void reject_unknown_fields(const nlohmann::json& object, std::string_view path,
                           std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    bool is_known = false;
    for (auto k : known) is_known = is_known || k == key;
    if (!is_known) throw JsonFieldError(child_path(path, key), "unknown field");
  }
}

std::string read_string(const nlohmann::json& value, std::string_view path) {
  if (!value.is_string()) throw JsonFieldError(std::string(path), "must be a string");
  return value.get<std::string>();
}

bool read_bool(const nlohmann::json& value, std::string_view path) {
  if (!value.is_boolean()) throw JsonFieldError(std::string(path), "must be true or false");
  return value.get<bool>();
}

uint64_t read_integer(const nlohmann::json& value, std::string_view path, uint64_t min, uint64_t max) {
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!value.is_number_integer()) throw JsonFieldError(std::string(path), "must be " + range);
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v >= min && v <= max) return v;
  } else {
    int64_t v = value.get<int64_t>();
    if (v >= 0 && static_cast<uint64_t>(v) >= min && static_cast<uint64_t>(v) <= max) return static_cast<uint64_t>(v);
  }
  throw JsonFieldError(std::string(path), "must be " + range);
}

}  // namespace policy
