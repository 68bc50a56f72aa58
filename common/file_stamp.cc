#include "common/file_stamp.h"

namespace common {
namespace {

std::string nanoseconds(const timespec& time) {
  return std::to_string(static_cast<int64_t>(time.tv_sec) * 1000000000 + time.tv_nsec);
}

}  // namespace

std::string file_stamp(const struct stat& info) {
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) + ":" +
         nanoseconds(info.st_mtim) + ":" + nanoseconds(info.st_ctim);
}

std::string file_stamp(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return {};
  return file_stamp(info);
}

}  // namespace common
