#pragma once
// CRC-32C (Castagnoli, the iSCSI and SCTP checksum of RFC 4960 appendix B),
// which PROXY protocol v2 headers may carry. Debian ships no C library for it
// (zlib's crc32 is the other polynomial), and the headers it checks are at
// most a few KiB, so a byte-wise table is plenty.

#include <cstdint>
#include <span>

namespace common {

uint32_t crc32c(std::span<const uint8_t> bytes);

}  // namespace common
