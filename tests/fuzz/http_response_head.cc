// fetch()'s response heads (worker/http_response_head.cc) read what a remote
// HTTP server sends, line by line as libcurl splits it.
// Properties: a complete head has a final status (101 or 200..999) and a
// bounded list of headers whose names are non-empty and trimmed; once
// complete or failed, nothing changes it.

#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "worker/http_response_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  worker::HttpResponseHead head;
  bool settled = false;
  int settled_status = 0;
  size_t settled_headers = 0;
  while (!input.empty()) {
    size_t end = input.find('\n');
    std::string_view line = input.substr(0, end == std::string_view::npos ? input.size() : end + 1);
    input.remove_prefix(line.size());
    auto progress = head.feed(line);
    if (settled) {
      FUZZ_CHECK(progress == worker::HttpResponseHead::Progress::more);
      FUZZ_CHECK(head.status() == settled_status && head.headers().size() == settled_headers);
      continue;
    }
    FUZZ_CHECK(head.headers().size() <= worker::HttpResponseHead::kMaxHeaders);
    if (progress == worker::HttpResponseHead::Progress::complete) {
      FUZZ_CHECK(head.status() == 101 || (head.status() >= 200 && head.status() <= 999));
      for (const auto& [name, value] : head.headers()) {
        FUZZ_CHECK(!name.empty());
        FUZZ_CHECK(name.front() != ' ' && name.back() != ' ' && name.back() != '\t');
        FUZZ_CHECK(value.empty() || (value.back() != '\r' && value.back() != '\n'));
      }
    }
    if (progress != worker::HttpResponseHead::Progress::more) {
      settled = true;
      settled_status = head.status();
      settled_headers = head.headers().size();
    }
  }
  return 0;
}
