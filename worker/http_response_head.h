#pragma once
// A response head as libcurl hands it over, one line per call (the status
// line, header lines, the blank line that ends it), assembled for fetch():
// the status, its reason phrase and the header list in wire order. Interim
// heads (100 Continue, 103) are dropped; folded lines join the header
// before them. Pure: the remote server's bytes in, no I/O (fuzzed:
// tests/fuzz/http_response_head.cc).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace worker {

class HttpResponseHead {
 public:
  // A head with more header lines than this is refused (feed() → failed).
  static constexpr size_t kMaxHeaders = 512;

  enum class Progress { more, complete, failed };
  // One line, with or without its CRLF. After `complete` (or `failed`),
  // further lines (trailers) are ignored.
  Progress feed(std::string_view line);

  int status() const { return status_; }
  const std::string& reason() const { return reason_; }
  std::vector<std::pair<std::string, std::string>>& headers() { return headers_; }

 private:
  int status_ = 0;
  std::string reason_;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool done_ = false;
};

}  // namespace worker
