#pragma once
// Reading a file on behalf of someone less trusted (a handlers folder's
// writer, a manifest naming a key) without letting them stall or fool the
// reader: opened with openat2 beneath a known directory (no escape through
// "..", absolute symlinks or /proc's magic links), non-blocking (a FIFO or
// a device cannot hang the caller), checked with fstat on the descriptor
// actually read (no stat-then-open race), and read with a bound.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/unique_fd.h"

namespace common {

struct FileRules {
  size_t max_bytes = 64 * 1024;
  // Symbolic links: followed while they stay beneath the directory, or not
  // at all.
  bool follow_symlinks = true;
  // Owner and mode, when they matter (key material): the file must belong to
  // `owner` (or root) and have none of `forbidden_mode`.
  std::optional<uid_t> owner;
  mode_t forbidden_mode = 0;
};

// Opens a directory to read beneath. Its own path is the operator's and may
// pass through symlinks; its owner and mode are checked like a file's.
bool open_directory(const std::string& path, const FileRules& rules, UniqueFd& out, std::string& error);

// Reads `relative` beneath `dir_fd` under `rules`. `error` names the file
// (`label`, the path as the caller knows it) and what was wrong.
bool read_file_beneath(int dir_fd, const std::string& relative, const std::string& label, const FileRules& rules,
                       std::string& out, std::string& error, struct stat* info = nullptr);

// A file the operator named (the config): any path, but still non-blocking,
// a regular file, and bounded.
bool read_regular_file(const std::string& path, size_t max_bytes, std::string& out, std::string& error);

// A file the operator named that holds something to protect (a password, a
// key): any path (symbolic links followed, as the operator's tools make
// them: Kubernetes secrets are links), non-blocking, a regular file, with
// the owner and mode `rules` demand, and bounded.
bool read_protected_file(const std::string& path, const FileRules& rules, std::string& out, std::string& error);

// "0640", for messages about modes.
std::string mode_text(mode_t mode);

}  // namespace common
