#pragma once
// A handler's listening TCP socket. Bound (and listening: the kernel queues
// connections) as soon as the handler claims its port; accepting starts when
// the worker is ready, so open(ctx) always finishes before the first hand-off.

#include <uv.h>

#include <functional>
#include <string>

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/one_shot_timer.h"
#include "common/uv_handle.h"

namespace supervisor {

class TcpListener {
 public:
  using AcceptCallback = std::function<void(common::UniqueFd fd, const common::SocketAddress& remote)>;

  TcpListener(uv_loop_t* loop, uint16_t port) : loop_(loop), port_(port) {}
  bool open(std::string& error);
  void resume(AcceptCallback on_accept);
  // Resumes with the callback given before.
  void resume();
  void pause();

 private:
  void on_readable();
  void start_polling();

  uv_loop_t* loop_;
  uint16_t port_;
  common::UniqueFd fd_;
  common::UvHandle<uv_poll_t> poll_;
  // Out of descriptors: a level-triggered listener would spin, so it rests.
  common::OneShotTimer backoff_;
  AcceptCallback on_accept_;
};

}  // namespace supervisor
