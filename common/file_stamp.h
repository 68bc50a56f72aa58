#pragma once
// A file's identity and version as the kernel keeps them: device, inode, size,
// modification and change times. Two stamps differ when the file was replaced
// (rename into place, a symlink swapped to another target) or written, without
// reading its content. The worker stamps each module it loads (fstat of the
// descriptor it read), the supervisor stamps the same paths to see what changed.

#include <sys/stat.h>

#include <string>

namespace common {

std::string file_stamp(const struct stat& info);
// Follows symlinks; empty if the file cannot be stat'ed.
std::string file_stamp(const std::string& path);

}  // namespace common
