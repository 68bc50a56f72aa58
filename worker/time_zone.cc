#include "worker/time_zone.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>

namespace worker {
namespace {

// "/usr/share/zoneinfo/Europe/Paris" -> "Europe/Paris".
std::string after_zoneinfo(const std::string& path) {
  constexpr std::string_view kMarker = "zoneinfo/";
  auto at = path.rfind(kMarker);
  return at == std::string::npos ? std::string() : path.substr(at + kMarker.size());
}

std::string trimmed(std::string text) {
  auto end = text.find_first_of("\r\n \t");
  if (end != std::string::npos) text.resize(end);
  return text;
}

}  // namespace

std::string host_time_zone(const char* tz, const std::string& localtime_link, const std::string& timezone_file) {
  if (tz != nullptr && *tz != '\0') {
    std::string value = tz;
    if (value.front() == ':') value.erase(0, 1);
    // A path to a zone file names its zone; any other value (an IANA ID, a
    // POSIX rule such as "EST5EDT") is the libraries' to read.
    if (!value.empty() && value.front() == '/') {
      std::string zone = after_zoneinfo(value);
      return zone.empty() ? value : zone;
    }
    return value;
  }
  if (std::string zone = after_zoneinfo(localtime_link); !zone.empty()) return zone;
  return trimmed(timezone_file);
}

void adopt_host_time_zone() {
  char target[PATH_MAX] = {};
  ssize_t length = readlink("/etc/localtime", target, sizeof target - 1);
  std::string link = length > 0 ? std::string(target, static_cast<size_t>(length)) : std::string();
  std::string timezone_file;
  if (link.empty()) std::getline(std::ifstream("/etc/timezone"), timezone_file);
  std::string zone = host_time_zone(std::getenv("TZ"), link, timezone_file);
  if (!zone.empty()) setenv("TZ", zone.c_str(), 1);
  tzset();
}

}  // namespace worker
