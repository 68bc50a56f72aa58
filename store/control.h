#pragma once
// The store's control channel: a SOCK_SEQPACKET socket from the supervisor
// (`--control-fd`) that adds, updates and removes scopes (ipc/messages.h,
// store_scope and store_scope_remove). The supervisor is trusted, but what
// arrives is still checked: a message that is malformed, names no valid
// scope or carries a descriptor that is not a listening Unix stream socket is
// logged and ignored, its descriptors closed.

#include <uv.h>

#include <cstdint>
#include <span>
#include <vector>

#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/channel.h"
#include "store/keyspace.h"
#include "store/server.h"

namespace store {

// Applies control messages to the server (listeners, clients) and the
// keyspace (quotas).
class ScopeControl {
 public:
  ScopeControl(Server& server, Keyspace& keyspace) : server_(server), keyspace_(keyspace) {}

  // One message and the descriptors that came with it, all of which it takes
  // (adopted as a listener, or closed). Returns whether it was applied.
  bool handle(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);

 private:
  bool add_or_update(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);
  bool remove(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);

  Server& server_;
  Keyspace& keyspace_;
};

// Reads the channel on the loop and hands each message to a ScopeControl.
// When the supervisor's end closes, it stops reading; the store goes on.
class ControlChannel {
 public:
  ControlChannel(uv_loop_t* loop, ScopeControl& control) : loop_(loop), control_(control) {}
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  // `channel` must be a SOCK_SEQPACKET socket. Returns false, logged, if it
  // cannot be watched.
  bool start(common::UniqueFd channel);
  void stop();

 private:
  void on_readable();

  uv_loop_t* loop_;
  ScopeControl& control_;
  common::UniqueFd channel_;
  common::UvHandle<uv_poll_t> poll_;
  ipc::MessageReader reader_;
};

// Why `fd` cannot be the control channel (a SOCK_SEQPACKET Unix socket), or
// nothing when it can.
std::optional<std::string> check_control_socket(int fd);

}  // namespace store
