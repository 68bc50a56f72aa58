#include "ctl/table.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ctl {
namespace {

const char* colour_of(const std::string& word) {
  if (word == "active" || word == "ok") return "\033[32m";
  if (word == "failed" || word == "error") return "\033[31m";
  if (word == "refused" || word == "starting" || word == "draining" || word == "warning") return "\033[33m";
  return nullptr;
}

}  // namespace

std::string table(const std::vector<Row>& rows, const TableStyle& style) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      // Escape codes go around the text, outside the padding, so columns stay aligned.
      const char* colour = style.colour && r > 0 && style.state_column == i ? colour_of(row[i]) : nullptr;
      line += colour ? colour + row[i] + "\033[0m" : row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string text(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string duration(uint64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
  if (seconds < 86400) return std::to_string(seconds / 3600) + "h" + std::to_string(seconds / 60 % 60) + "m";
  return std::to_string(seconds / 86400) + "d" + std::to_string(seconds / 3600 % 24) + "h";
}

std::string byte_count(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  uint64_t whole = bytes;
  uint64_t tenths = 0;
  while (whole >= 1024 && unit + 1 < std::size(kUnits)) {
    tenths = (whole % 1024) * 10 / 1024;
    whole /= 1024;
    ++unit;
  }
  if (unit == 0) return std::to_string(whole) + " B";
  return std::to_string(whole) + "." + std::to_string(tenths) + " " + kUnits[unit];
}

bool stdout_wants_colour() {
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && (no_colour == nullptr || no_colour[0] == '\0') &&
         !(term != nullptr && std::strcmp(term, "dumb") == 0);
}

}  // namespace ctl
