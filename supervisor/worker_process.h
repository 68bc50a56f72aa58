#pragma once
// The supervisor's side of one worker: the process, and the channel carrying
// the init handshake, connection hand-offs, datagram batches and the stop
// request to it, and ready/failed/replies back.

#include <uv.h>

#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "supervisor/child_process.h"

namespace supervisor {

class WorkerProcess {
 public:
  struct Events {
    std::function<void(const std::string& access_json)> ready;
    std::function<void(const std::string& reason)> failed;
    std::function<void(std::span<const uint8_t> batch)> replies;
    std::function<void(const std::string& exit_description)> exited;
  };

  // Hand-offs waiting for room in the channel; beyond this the handler stops
  // accepting and lets the kernel's listen queue hold new connections.
  static constexpr size_t kMaxQueuedHandoffs = 1024;

  WorkerProcess(uv_loop_t* loop, Events events) : loop_(loop), events_(std::move(events)) {}
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  bool start(const std::string& executable, const ipc::WorkerInit& init, common::UniqueFd store_command,
             common::UniqueFd store_subscription, std::string& error);
  // Sends a connection to the worker; the caller keeps its own descriptor.
  // False if the channel is gone.
  bool hand_off(const ipc::ConnectionHandoff& handoff, int fd);
  // False if the batch was dropped (channel full or gone).
  bool send_datagrams(std::span<const uint8_t> batch);
  void stop(const ipc::WorkerStop& stop);
  void kill();

  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }
  size_t queued_handoffs() const { return outbox_.size(); }

 private:
  struct Outgoing {
    std::vector<uint8_t> bytes;
    common::UniqueFd fd;  // a duplicate, owned until sent
  };

  bool send_or_queue(std::vector<uint8_t> bytes, int fd);
  void on_channel(int status, int events);
  void watch(bool writable);
  void close_channel();

  uv_loop_t* loop_;
  Events events_;
  ChildProcess child_;
  common::UniqueFd channel_;
  common::UvHandle<uv_poll_t> poll_;
  std::deque<Outgoing> outbox_;
  ipc::ReceivedMessage received_;
};

}  // namespace supervisor
