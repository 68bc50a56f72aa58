#pragma once
// Strict reading of JSON documents (the broker config now, manifests later):
// every error names the JSON path of the offending field, unknown fields are
// errors, and types are never coerced.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace policy {

class JsonFieldError : public std::runtime_error {
 public:
  JsonFieldError(std::string path, const std::string& message)
      : std::runtime_error(path + ": " + message), path_(std::move(path)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Nesting beyond this is refused while parsing: copying or printing a deeper
// document recurses, and some documents come from untrusted workers.
inline constexpr int kMaxJsonDepth = 32;

// Parses `text` as one JSON object, rejecting anything that is not an object
// or is nested deeper than kMaxJsonDepth; syntax errors carry line and column.
// `allow_comments`: // and /* */ comments are skipped (the operator's config
// file); documents from the folder or from workers have none.
nlohmann::json parse_json_object(std::string_view text, bool allow_comments = false);

std::string child_path(std::string_view parent, std::string_view key);
void require_object(const nlohmann::json& value, std::string_view path);
void reject_unknown_fields(const nlohmann::json& object, std::string_view path,
                           std::initializer_list<std::string_view> known);
std::string read_string(const nlohmann::json& value, std::string_view path);
bool read_bool(const nlohmann::json& value, std::string_view path);
// An integer in [min, max]; floats, strings and booleans are refused.
uint64_t read_integer(const nlohmann::json& value, std::string_view path, uint64_t min, uint64_t max);

}  // namespace policy
