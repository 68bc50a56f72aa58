#include "supervisor/log_writer.h"

#include <unistd.h>

#include <utility>

#include "common/log.h"

namespace supervisor {
namespace {

LogWriter* g_writer = nullptr;

}  // namespace

LogWriter::LogWriter() : owner_(getpid()) {
  thread_ = std::thread([this] { run(); });
  g_writer = this;
  common::log::set_sink(&LogWriter::sink);
}

LogWriter::~LogWriter() {
  common::log::set_sink(nullptr);
  g_writer = nullptr;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void LogWriter::sink(std::string_view line) {
  if (g_writer == nullptr || getpid() != g_writer->owner_) return common::log::write_to_stderr(line);
  g_writer->submit(line);
}

void LogWriter::submit(std::string_view line) {
  {
    std::lock_guard lock(mutex_);
    if (queued_bytes_ + line.size() > kMaxQueuedBytes) {
      ++dropped_;
      return;
    }
    queue_.emplace_back(line);
    queued_bytes_ += line.size();
  }
  wake_.notify_one();
}

void LogWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything written
    // The batch being written counts no more: at most twice the bound is
    // held at once, and the loop never waits for the writes.
    std::deque<std::string> batch;
    batch.swap(queue_);
    queued_bytes_ = 0;
    uint64_t dropped = std::exchange(dropped_, 0);
    lock.unlock();
    for (const auto& line : batch) common::log::write_to_stderr(line);
    if (dropped > 0) {
      // After the lines that were kept, so it says where the gap is.
      common::log::Line(common::log::Level::warn, "log-lines-dropped")
          .kv("process", "supervisor")
          .kv("lines", dropped)
          .kv("reason", "stderr is read more slowly than the broker logs");
      // (The line went through the sink into the queue: written next round.)
    }
    lock.lock();
  }
}

}  // namespace supervisor
