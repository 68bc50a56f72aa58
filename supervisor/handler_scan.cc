#include "supervisor/handler_scan.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "common/process.h"
#include "policy/claim_table.h"

namespace supervisor {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
struct FreeDeleter {
  void operator()(char* p) const { free(p); }
};

std::string real_path(const std::string& path) {
  std::unique_ptr<char, FreeDeleter> resolved(realpath(path.c_str(), nullptr));
  return resolved ? std::string(resolved.get()) : std::string();
}

}  // namespace

bool scan_handlers_dir(const std::string& dir, ScanResult& result, std::string& error) {
  std::unique_ptr<DIR, DirCloser> handle(opendir(dir.c_str()));
  if (!handle) {
    error = "cannot read handlers folder " + dir + ": " + common::errno_text(errno);
    return false;
  }
  const std::string root = real_path(dir);
  while (dirent* entry = readdir(handle.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    auto verdict = policy::classify_filename(name);
    if (verdict.kind == policy::FilenameVerdict::Kind::not_an_attempt) continue;
    if (verdict.kind == policy::FilenameVerdict::Kind::invalid) {
      result.ignored.push_back({name, verdict.reason});
      continue;
    }
    std::string path = dir + "/" + name;
    struct stat link_info {};
    struct stat info {};
    if (lstat(path.c_str(), &link_info) != 0 || stat(path.c_str(), &info) != 0) {
      result.ignored.push_back({name, "cannot be read: " + common::errno_text(errno)});
      continue;
    }
    if (S_ISLNK(link_info.st_mode)) {
      // ConfigMap-style links are fine as long as they stay inside the folder.
      std::string target = real_path(path);
      if (target.empty() || root.empty() || target.compare(0, root.size() + 1, root + "/") != 0) {
        result.ignored.push_back({name, "symlink resolves outside the handlers folder"});
        continue;
      }
    }
    if (!S_ISREG(info.st_mode)) {
      result.ignored.push_back({name, "not a regular file"});
      continue;
    }
    int64_t mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
    result.entry_points.push_back({name, verdict.handler, mtime_ns});
  }
  std::sort(result.entry_points.begin(), result.entry_points.end(), [](const HandlerFile& a, const HandlerFile& b) {
    return policy::ClaimPriority{a.mtime_ns, a.file} < policy::ClaimPriority{b.mtime_ns, b.file};
  });
  std::sort(result.ignored.begin(), result.ignored.end(),
            [](const IgnoredFile& a, const IgnoredFile& b) { return a.file < b.file; });
  return true;
}

}  // namespace supervisor
