#pragma once
// Watches the handlers folder, and the subfolders handlers import from, for
// changes (inotify through libuv; not recursive, hence the explicit
// subfolders). Sync tools, editors and `git pull` change many files in a
// burst, so the callback runs once the burst has settled: `settle_ms` after
// the last event, or at the latest `max_wait_ms` after the first.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/one_shot_timer.h"
#include "common/uv_handle.h"

namespace supervisor {

class FolderWatch {
 public:
  FolderWatch(uv_loop_t* loop, std::string root, uint64_t settle_ms, uint64_t max_wait_ms,
              std::function<void()> changed);
  FolderWatch(const FolderWatch&) = delete;
  FolderWatch& operator=(const FolderWatch&) = delete;

  bool start(std::string& error);
  // Replaces the watched subfolders (paths relative to the root, or absolute
  // for folders elsewhere, such as certificates'). A folder
  // replaced by another (renamed over, a symlink swapped) is watched anew.
  void watch_subfolders(const std::vector<std::string>& relative);

 private:
  bool watch(const std::string& path, std::string& error);
  void on_event();

  uv_loop_t* loop_;
  std::string root_;
  uint64_t settle_ms_;
  uint64_t max_wait_ms_;
  std::function<void()> changed_;
  struct Watch {
    common::UvHandle<uv_fs_event_t> handle;
    std::string identity;  // device and inode of the folder watched
  };
  std::map<std::string, Watch> watches_;  // by absolute path
  common::OneShotTimer settle_;
  std::optional<uint64_t> burst_started_ms_;  // of the burst being settled
};

}  // namespace supervisor
