#pragma once
// Resource limits of a confined process.

#include <cstdint>
#include <string>

namespace sandbox {

struct Limits {
  uint64_t open_files = 4096;
  uint64_t processes = 4096;  // per user: counts threads, so generous; seccomp stops new processes
  uint64_t address_space_bytes = 16ull << 30;  // the engine reserves large virtual ranges
};

// Applies the limits, plus no core dumps and no file writes.
bool apply_limits(const Limits& limits, std::string& error);

}  // namespace sandbox
