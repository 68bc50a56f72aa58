#pragma once
// A child's stdout and stderr, read by the supervisor and passed on to its own
// stderr whole lines at a time. A child (a worker runs untrusted code) can
// therefore never block the supervisor by filling a shared pipe, lines from
// different processes never interleave, and a child that floods is limited
// (kLinesPerSecond, bursts of kBurstLines; kMaxLineBytes per line) with what
// was dropped counted and reported. Each line is escaped and tagged with
// the child it came from (tagged_line).

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/one_shot_timer.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"

namespace supervisor {

// One line of a child's output as the supervisor logs it: control bytes
// escaped, and ` from=<label>` appended (its provenance, which the child
// cannot forge), newline-terminated.
std::string tagged_line(std::string_view line, std::string_view label);

class ChildOutput {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;
  static constexpr uint64_t kLinesPerSecond = 2000;
  static constexpr uint64_t kBurstLines = 4000;

  ChildOutput(uv_loop_t* loop, std::string label) : loop_(loop), label_(std::move(label)) {}
  ChildOutput(const ChildOutput&) = delete;
  ChildOutput& operator=(const ChildOutput&) = delete;
  ~ChildOutput();

  // Creates the pipe; `child_end` is to become the child's fds 1 and 2.
  bool open(common::UniqueFd& child_end, std::string& error);

 private:
  void on_data(const char* data, size_t size);
  void emit(std::string_view line);
  bool take_token();
  void report_dropped();

  uv_loop_t* loop_;
  std::string label_;
  common::UvHandle<uv_pipe_t> pipe_;
  std::string partial_;
  bool truncating_ = false;  // the current line passed kMaxLineBytes
  uint64_t tokens_ = kBurstLines;
  uint64_t refilled_ms_ = 0;
  uint64_t dropped_ = 0;
  // Reports drops even when the child goes quiet after its flood (otherwise
  // only its next line or its exit would say how many were dropped).
  common::OneShotTimer drop_report_;
};

}  // namespace supervisor
