#include "worker/http_response_head.h"

namespace worker {
namespace {

std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

HttpResponseHead::Progress HttpResponseHead::feed(std::string_view line) {
  if (done_) return Progress::more;
  if (line.substr(0, 5) == "HTTP/") {
    // "HTTP/1.1 200 OK": a new head; after an interim one, the final one.
    headers_.clear();
    reason_.clear();
    status_ = 0;
    size_t space = line.find(' ');
    std::string_view rest = space == std::string_view::npos ? std::string_view{} : trim(line.substr(space + 1));
    if (rest.size() < 3 || !is_digit(rest[0]) || !is_digit(rest[1]) || !is_digit(rest[2]) ||
        (rest.size() > 3 && rest[3] != ' ')) {
      done_ = true;
      return Progress::failed;
    }
    status_ = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (rest.size() > 4) reason_ = std::string(rest.substr(4));
    return Progress::more;
  }
  std::string_view text = trim(line);
  if (text.empty()) {
    if (status_ == 0) {
      done_ = true;
      return Progress::failed;  // a blank line before any status line
    }
    if (status_ >= 200 || status_ == 101) {
      done_ = true;
      return Progress::complete;
    }
    status_ = 0;  // the end of an interim head: the real one follows
    headers_.clear();
    reason_.clear();
    return Progress::more;
  }
  if (line[0] == ' ' || line[0] == '\t') {
    // An obsolete folded line continues the header before it.
    if (!headers_.empty()) headers_.back().second.append(" ").append(text);
    return Progress::more;
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return Progress::more;  // nothing fetch could show
  if (headers_.size() >= kMaxHeaders) {
    done_ = true;
    return Progress::failed;
  }
  headers_.emplace_back(std::string(trim(text.substr(0, colon))), std::string(trim(text.substr(colon + 1))));
  return Progress::more;
}

}  // namespace worker
