#pragma once
// The supervisor's log, written by a thread of its own. Every line (its own
// and those it relays from children) goes into one queue in order; the
// thread writes them to stderr. A reader that falls behind (a stalled
// journald, a test reading slowly) then costs memory up to kMaxQueuedBytes,
// and lines beyond it are dropped and counted (log-lines-dropped
// process=supervisor), never the event loop's time: the supervisor goes on
// reading its children's pipes, screening and serving. While it lives, the
// object is common::log's sink; its destructor writes what is queued.

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace supervisor {

class LogWriter {
 public:
  static constexpr size_t kMaxQueuedBytes = 8 << 20;

  LogWriter();
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

 private:
  static void sink(std::string_view line);
  void submit(std::string_view line);
  void run();

  pid_t owner_;  // a cloned child writes directly: it has no writer thread
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace supervisor
