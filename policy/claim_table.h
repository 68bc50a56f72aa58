#pragma once
// Who holds each (transport, port). The first claimant keeps it; later claimants
// are refused and wait. When the holder goes away, the earliest waiting claimant
// (by ClaimPriority) takes over.

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/handler_filename.h"

namespace policy {

struct ClaimKey {
  Transport transport = Transport::tcp;
  uint16_t port = 0;
  auto operator<=>(const ClaimKey&) const = default;
};

// Among files found together, "first" means the older modification time, then
// the file name in byte order. A file's priority never changes while it waits.
struct ClaimPriority {
  int64_t mtime_ns = 0;
  std::string file;
  auto operator<=>(const ClaimPriority&) const = default;
};

class ClaimTable {
 public:
  struct Outcome {
    bool granted = false;
    std::string holder;  // the file holding the key when refused
  };

  Outcome claim(ClaimKey key, ClaimPriority priority);

  // Withdraws `file`'s claim (held or waiting). If it held the key, the earliest
  // waiting claimant becomes the holder and its file name is returned.
  std::optional<std::string> release(ClaimKey key, const std::string& file);

  std::optional<std::string> holder(ClaimKey key) const;
  std::vector<std::string> waiting(ClaimKey key) const;

 private:
  struct Entry {
    std::string holder;
    std::vector<ClaimPriority> waiting;  // sorted, earliest first
  };
  std::map<ClaimKey, Entry> entries_;
};

}  // namespace policy
