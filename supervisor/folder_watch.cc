#include "supervisor/folder_watch.h"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "common/log.h"

namespace supervisor {
namespace {

// Beyond this many subfolders, changes there are picked up by `reload` only.
constexpr size_t kMaxWatchedFolders = 256;

// Which folder a path names now (empty if none).
std::string folder_identity(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return {};
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

}  // namespace

FolderWatch::FolderWatch(uv_loop_t* loop, std::string root, uint64_t settle_ms, uint64_t max_wait_ms,
                         std::function<void()> changed)
    : loop_(loop), root_(std::move(root)), settle_ms_(settle_ms), max_wait_ms_(max_wait_ms), changed_(std::move(changed)) {}

bool FolderWatch::start(std::string& error) { return watch(root_, error); }

bool FolderWatch::watch(const std::string& path, std::string& error) {
  common::UvHandle<uv_fs_event_t> handle;
  if (int rc = handle.init(uv_fs_event_init, loop_); rc != 0) {
    error = std::string("cannot watch ") + path + ": " + uv_strerror(rc);
    return false;
  }
  handle->data = this;
  int rc = uv_fs_event_start(
      handle.get(),
      [](uv_fs_event_t* h, const char*, int, int) {
        if (h->data) static_cast<FolderWatch*>(h->data)->on_event();
      },
      path.c_str(), 0);
  if (rc != 0) {
    error = std::string("cannot watch ") + path + ": " + uv_strerror(rc);
    return false;
  }
  watches_[path] = Watch{std::move(handle), folder_identity(path)};
  return true;
}

void FolderWatch::watch_subfolders(const std::vector<std::string>& relative) {
  std::set<std::string> wanted = {root_};
  for (const auto& folder : relative) {
    if (wanted.size() > kMaxWatchedFolders) break;
    // Absolute: outside the root (TLS certificates); relative: an import's folder.
    wanted.insert(folder.starts_with('/') ? folder : root_ + "/" + folder);
  }
  for (auto it = watches_.begin(); it != watches_.end();) {
    // inotify follows the inode: a path now naming another folder needs a new watch.
    bool current = wanted.count(it->first) && it->second.identity == folder_identity(it->first);
    it = current ? std::next(it) : watches_.erase(it);
  }
  for (const auto& path : wanted) {
    if (watches_.count(path)) continue;
    std::string error;
    // A folder that just went away is no reason to stop watching the rest.
    if (!watch(path, error)) common::log::debug("watch-failed").kv("reason", error);
  }
}

void FolderWatch::on_event() {
  uint64_t now = uv_now(loop_);
  if (!burst_started_ms_) burst_started_ms_ = now;
  uint64_t latest = *burst_started_ms_ + max_wait_ms_;
  uint64_t due = std::min(now + settle_ms_, latest);
  settle_.start(loop_, due > now ? due - now : 0, [this] {
    burst_started_ms_.reset();
    changed_();
  });
}

}  // namespace supervisor
