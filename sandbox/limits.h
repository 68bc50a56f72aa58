#pragma once
// Resource limits of a confined process.

#include <cstdint>
#include <string>

#include "common/sanitizers.h"

namespace sandbox {

struct Limits {
  uint64_t open_files = 4096;
  uint64_t processes = 4096;  // per user: counts threads, so generous; seccomp stops new processes
  uint64_t address_space_bytes = 16ull << 30;  // the engine reserves large virtual ranges
};

// False only in AddressSanitizer builds (tests): its shadow memory is one
// reservation of about 20 TiB of address space, made at start-up, and the
// engine's allocations would fail under any RLIMIT_AS a worker could be given.
// Such a worker's sandbox notes say so (kAddressSpaceNote).
inline constexpr bool kAddressSpaceLimited = !common::kAddressSanitizer;
inline constexpr const char* kAddressSpaceNote =
    "address space not limited (RLIMIT_AS): built with AddressSanitizer, whose shadow memory needs terabytes";

// Applies the limits (RLIMIT_AS where kAddressSpaceLimited), plus no core
// dumps and no file writes.
bool apply_limits(const Limits& limits, std::string& error);

}  // namespace sandbox
