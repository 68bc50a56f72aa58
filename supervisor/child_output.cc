#include "supervisor/child_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/log.h"
#include "common/process.h"

namespace supervisor {
ChildOutput::~ChildOutput() {
  // A child's last words (often why it failed) may still be in the pipe.
  uv_os_fd_t fd;
  if (pipe_ && uv_fileno(reinterpret_cast<uv_handle_t*>(pipe_.get()), &fd) == 0) {
    char buffer[64 * 1024];
    for (int round = 0; round < 64; ++round) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      on_data(buffer, static_cast<size_t>(n));
    }
  }
  if (!partial_.empty()) emit(partial_);
  report_dropped();
}

bool ChildOutput::open(common::UniqueFd& child_end, std::string& error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    error = "cannot create the output pipe for " + label_ + ": " + common::errno_text(errno);
    return false;
  }
  common::UniqueFd read_end(fds[0]);
  child_end.reset(fds[1]);
  if (int rc = pipe_.init(uv_pipe_init, loop_, 0); rc != 0 || (rc = uv_pipe_open(pipe_.get(), read_end.get())) != 0) {
    error = "cannot watch the output of " + label_ + ": " + uv_strerror(rc);
    return false;
  }
  read_end.release();
  pipe_->data = this;
  refilled_ms_ = uv_now(loop_);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(pipe_.get()),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static char buffer[64 * 1024];
        *buf = uv_buf_init(buffer, sizeof buffer);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<ChildOutput*>(stream->data);
        if (self == nullptr) return;
        if (nread > 0) {
          self->on_data(buf->base, static_cast<size_t>(nread));
        } else if (nread < 0) {
          uv_read_stop(stream);  // the child is gone (EOF)
          if (!self->partial_.empty()) self->emit(self->partial_);
          self->partial_.clear();
          self->report_dropped();
        }
      });
  return true;
}

void ChildOutput::on_data(const char* data, size_t size) {
  std::string_view input(data, size);
  while (!input.empty()) {
    size_t newline = input.find('\n');
    std::string_view piece = input.substr(0, newline);
    if (!truncating_) {
      size_t room = kMaxLineBytes - partial_.size();
      partial_.append(piece.substr(0, std::min(room, piece.size())));
      if (piece.size() > room) truncating_ = true;
    }
    if (newline == std::string_view::npos) return;
    if (truncating_) partial_ += " [line truncated]";
    emit(partial_);
    partial_.clear();
    truncating_ = false;
    input.remove_prefix(newline + 1);
  }
}

bool ChildOutput::take_token() {
  uint64_t now = uv_now(loop_);
  uint64_t earned = (now - refilled_ms_) * kLinesPerSecond / 1000;
  if (earned > 0) {
    tokens_ = std::min(kBurstLines, tokens_ + earned);
    refilled_ms_ = now;
  }
  if (tokens_ == 0) return false;
  --tokens_;
  return true;
}

void ChildOutput::emit(std::string_view line) {
  if (!take_token()) {
    // One report a second at most, however the flood comes: a line that
    // passes between drops (a token refills every half millisecond) must not
    // cost a report line of its own.
    if (dropped_++ == 0) drop_report_.start(loop_, 1000, [this] { report_dropped(); });
    return;
  }
  common::log::write_line(tagged_line(line, label_));
}

std::string tagged_line(std::string_view line, std::string_view label) {
  // A child (a worker runs untrusted code) writes whatever it likes. Control
  // bytes are escaped so it cannot move an operator's cursor, clear a
  // terminal or start a second line, and the supervisor's own field goes
  // last, so every child line says where it came from: a logfmt reader
  // keeps the last of repeated keys, which no child can write after this.
  std::string out;
  out.reserve(line.size() + label.size() + 16);
  for (unsigned char c : line) {
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += " from=";
  common::log::append_value(out, label);
  out += '\n';
  return out;
}

void ChildOutput::report_dropped() {
  drop_report_.cancel();
  if (dropped_ == 0) return;
  common::log::warn("log-lines-dropped").kv("process", label_).kv("lines", dropped_);
  dropped_ = 0;
}

}  // namespace supervisor
