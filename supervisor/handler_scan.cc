#include "supervisor/handler_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "common/bounded_file.h"
#include "common/file_stamp.h"
#include "common/process.h"
#include "policy/claim_table.h"
#include "policy/json_fields.h"

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

bool scan_handlers_dir(const std::string& dir, const policy::TlsSources& tls, ScanResult& result, std::string& error) {
  std::unique_ptr<DIR, DirCloser> handle(opendir(dir.c_str()));
  // Manifests are read beneath this descriptor (openat2): a symlink or a
  // rename cannot take the read outside the folder.
  common::UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!handle || !dir_fd) {
    error = "cannot read handlers folder " + dir + ": " + common::errno_text(errno);
    return false;
  }
  const std::string root = real_path(dir);
  std::vector<std::string> manifests;
  while (dirent* entry = readdir(handle.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (name.ends_with(".port.json") && name.front() != '.') {
      manifests.push_back(name);
      continue;
    }
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
    HandlerFile found;
    found.file = name;
    found.id = verdict.handler;
    found.mtime_ns = mtime_ns;
    found.code_stamp = common::file_stamp(info);
    result.entry_points.push_back(std::move(found));
  }
  for (auto& handler : result.entry_points) {
    handler.manifest_file = policy::manifest_file_for(handler.file);
    auto found = std::find(manifests.begin(), manifests.end(), handler.manifest_file);
    if (found == manifests.end()) continue;
    manifests.erase(found);
    std::string text;
    std::string read_error;
    // Non-blocking and checked on the descriptor read: a FIFO, a device or
    // a file swapped in meanwhile is refused, never waited on.
    common::FileRules rules;
    rules.max_bytes = policy::kMaxManifestBytes;
    if (!common::read_file_beneath(dir_fd.get(), handler.manifest_file, handler.manifest_file, rules, text,
                                   read_error)) {
      handler.manifest_error = read_error;
      handler.manifest_signature = "error:" + handler.manifest_error;
      continue;
    }
    try {
      handler.manifest = policy::parse_manifest(text, handler.id.transport);
      // Key files and on-demand names only from what the operator allows.
      policy::check_tls_sources(handler.manifest->tls, tls);
      handler.manifest_signature = "text:" + text;
    } catch (const policy::JsonFieldError& e) {
      handler.manifest.reset();
      handler.manifest_error = handler.manifest_file + ": " + e.what();
      handler.manifest_signature = "error:" + handler.manifest_error;
    }
  }
  for (const auto& orphan : manifests) {
    result.ignored.push_back({orphan, "manifest without a handler (no " +
                                          orphan.substr(0, orphan.size() - 5) + ".js)"});
  }
  std::sort(result.entry_points.begin(), result.entry_points.end(), [](const HandlerFile& a, const HandlerFile& b) {
    return policy::ClaimPriority{a.mtime_ns, a.file} < policy::ClaimPriority{b.mtime_ns, b.file};
  });
  std::sort(result.ignored.begin(), result.ignored.end(),
            [](const IgnoredFile& a, const IgnoredFile& b) { return a.file < b.file; });
  return true;
}

}  // namespace supervisor
