#pragma once
// The store's key count for metrics, asked without ever blocking the
// supervisor's loop: a DBSIZE every kIntervalMs on a connection of its own,
// answered asynchronously, the last answer kept. A metrics request (which
// anyone who reaches the metrics listener can make) reads the kept answer,
// at most a second old. A store that does not answer within kAnswerWithinMs
// loses the connection, and the figure goes stale, then absent, rather than
// making the supervisor wait.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/one_shot_timer.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"

namespace supervisor {

class StoreProbe {
 public:
  using Connect = std::function<bool(common::UniqueFd& out, std::string& error)>;

  static constexpr uint64_t kIntervalMs = 1000;
  static constexpr uint64_t kAnswerWithinMs = 2000;
  // An answer older than this is not shown.
  static constexpr uint64_t kFreshForMs = 30000;

  StoreProbe(uv_loop_t* loop, Connect connect) : loop_(loop), connect_(std::move(connect)) {}
  StoreProbe(const StoreProbe&) = delete;
  StoreProbe& operator=(const StoreProbe&) = delete;

  // Starts asking every kIntervalMs (and at once).
  void start();
  void stop();
  // Asks the store again, unless a question is already out.
  void refresh();
  // The latest answer, if fresh enough.
  std::optional<uint64_t> key_count() const;

 private:
  void on_input(const char* data, size_t size);
  void drop();

  uv_loop_t* loop_;
  Connect connect_;
  common::UvHandle<uv_pipe_t> pipe_;
  common::OneShotTimer deadline_;
  common::UvHandle<uv_timer_t> interval_;
  std::string input_;
  bool asking_ = false;
  std::optional<uint64_t> keys_;
  uint64_t answered_ms_ = 0;
};

}  // namespace supervisor
