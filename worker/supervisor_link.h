#pragma once
// The worker's end of the channel to the supervisor: the init handshake, then
// connections, datagram batches and the stop request in; ready/failed and reply
// batches out. If the supervisor goes away, so does the worker.

#include <uv.h>

#include <deque>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/channel.h"
#include "ipc/messages.h"

namespace worker {

class Runtime;

class SupervisorLink {
 public:
  explicit SupervisorLink(common::UniqueFd channel) : channel_(std::move(channel)) {}
  ~SupervisorLink() { close(); }
  SupervisorLink(const SupervisorLink&) = delete;
  SupervisorLink& operator=(const SupervisorLink&) = delete;

  // Waits for worker_init (blocking, bounded by timeout_ms) before any runtime exists.
  bool receive_init(ipc::WorkerInit& init, std::vector<common::UniqueFd>& fds, int timeout_ms, std::string& error);
  void start(uv_loop_t* loop, Runtime& runtime);
  // Gives what is still queued a bounded wait (kLastWordsTimeoutMs), then
  // closes: a report queued just before exit (the handler failed, a reply
  // batch) still reaches the supervisor, which reads a dead worker's channel
  // to its end. Every exit path gets it through the destructor.
  void close();
  // Queues when the channel is full; messages keep their order.
  void send(std::span<const uint8_t> message);

 private:
  static constexpr int kLastWordsTimeoutMs = 1000;

  void on_events(int status, int events);
  void dispatch(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);
  void update_poll();

  common::UniqueFd channel_;
  common::UvHandle<uv_poll_t> poll_;
  Runtime* runtime_ = nullptr;
  std::deque<std::vector<uint8_t>> outbox_;
  ipc::MessageReader reader_;
};

}  // namespace worker
