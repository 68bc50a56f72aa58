#pragma once
// The runtime's own JavaScript (worker/js/**), compiled into the binary by the
// build (see worker/CMakeLists.txt), keyed by path relative to worker/js.

#include <cstddef>
#include <string_view>

namespace worker {

struct InternalSource {
  std::string_view name;
  std::string_view text;
};

extern const InternalSource kInternalSources[];
extern const size_t kInternalSourceCount;

}  // namespace worker
