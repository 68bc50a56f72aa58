#pragma once
// Aligned text tables for people, with the state column coloured when the
// output is a terminal.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctl {

using Row = std::vector<std::string>;

struct TableStyle {
  bool colour = false;
  std::optional<size_t> state_column;  // whose words (active, failed, error, ...) are coloured
};

// Columns padded to their widest cell; the last column is not padded.
std::string table(const std::vector<Row>& rows, const TableStyle& style = {});
// A JSON value as a cell: strings bare, null as "-".
std::string text(const nlohmann::json& value);
std::string duration(uint64_t seconds);
std::string byte_count(uint64_t bytes);
// Colour is for a terminal that wants it (https://no-color.org).
bool stdout_wants_colour();

}  // namespace ctl
