#pragma once
// A bound on the log lines something outside the supervisor's control can
// cause (a worker's certificate requests, a client's refusals): a burst of
// lines, then a steady trickle, with the lines skipped meanwhile counted so
// the next line that gets through can say how many there were. Time comes
// from the caller.

#include <algorithm>
#include <cstdint>
#include <utility>

namespace common {

class LogBudget {
 public:
  LogBudget(uint32_t burst, uint32_t per_minute) : burst_(burst), per_minute_(per_minute), tokens_(burst) {}

  // True if a line may be written now; otherwise it is counted as suppressed.
  bool allow(uint64_t now_ms) {
    if (now_ms > refilled_ms_) {
      uint64_t earned = (now_ms - refilled_ms_) * per_minute_ / 60000;
      if (earned > 0) {
        tokens_ = std::min<uint64_t>(burst_, tokens_ + earned);
        refilled_ms_ = now_ms;
      }
    }
    if (tokens_ == 0) {
      ++suppressed_;
      return false;
    }
    --tokens_;
    return true;
  }
  // Lines suppressed since the last call (for the line that got through).
  uint64_t take_suppressed() { return std::exchange(suppressed_, 0); }

 private:
  uint32_t burst_;
  uint32_t per_minute_;
  uint64_t tokens_;
  uint64_t refilled_ms_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace common
