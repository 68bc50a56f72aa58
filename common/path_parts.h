#pragma once
// A path made only of plain parts: none empty, none "." or "..", no NUL, so
// where it leads can be decided from the text alone. Module paths a worker
// reports (relative) and key files a manifest names (absolute) are judged by
// it.

#include <string_view>

namespace common {

// `relative` must not start with '/'; an empty string has one empty part.
inline bool plain_path_parts(std::string_view relative) {
  if (relative.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    std::string_view part = relative.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace common
