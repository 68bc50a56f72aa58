#pragma once
// The store's control channel: a SOCK_SEQPACKET socket from the supervisor
// (`--control-fd`) that adds, updates and removes scopes (ipc/messages.h,
// store_scope and store_scope_remove). The supervisor is trusted, but what
// arrives is still checked: a message that is malformed, names no valid
// scope or carries a descriptor that is not a listening Unix stream socket is
// logged and ignored, its descriptors closed.

#include <uv.h>

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "common/log.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/channel.h"
#include "store/keyspace.h"
#include "store/server.h"

namespace store {

// Whatever reads the control channel: one message at a time, with the
// descriptors that came with it, all of which it takes (adopts or closes).
class ControlHandler {
 public:
  virtual ~ControlHandler() = default;
  // Returns whether the message was applied.
  virtual bool handle(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) = 0;
};

// Where scopes live besides the server's listeners: the embedded store's
// keyspace (quotas, key counts), or the relay's record of them.
class ScopeRegistry {
 public:
  virtual ~ScopeRegistry() = default;
  virtual bool has_scope(std::string_view name) const = 0;
  // Adds or updates the scope; notes what it holds on `line`.
  virtual void set_scope(std::string_view name, size_t max_bytes, common::log::Line& line) = 0;
  virtual void remove_scope(std::string_view name, common::log::Line& line) = 0;
};

// The embedded store's scopes: each a quota in the keyspace.
class KeyspaceScopes final : public ScopeRegistry {
 public:
  explicit KeyspaceScopes(Keyspace& keyspace) : keyspace_(keyspace) {}
  bool has_scope(std::string_view name) const override;
  void set_scope(std::string_view name, size_t max_bytes, common::log::Line& line) override;
  void remove_scope(std::string_view name, common::log::Line& line) override;

 private:
  Keyspace& keyspace_;
};

// Applies scope messages to the server (listeners, clients) and the
// registry (quotas).
class ScopeControl : public ControlHandler {
 public:
  ScopeControl(Server& server, ScopeRegistry& scopes) : server_(server), scopes_(scopes) {}

  bool handle(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) override;

 protected:
  // A scope message (store_scope, store_scope_remove): applied; others refused.
  bool handle_scope_message(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);

 private:
  bool add_or_update(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);
  bool remove(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);

  Server& server_;
  ScopeRegistry& scopes_;
};

// Reads the channel on the loop and hands each message to a handler; sends
// the relay's messages to the supervisor. When the supervisor's end closes,
// it stops; the store goes on.
class ControlChannel {
 public:
  ControlChannel(uv_loop_t* loop, ControlHandler& control) : loop_(loop), control_(control) {}
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  // `channel` must be a SOCK_SEQPACKET socket. Returns false, logged, if it
  // cannot be watched.
  bool start(common::UniqueFd channel);
  void stop();
  // Sends a message to the supervisor (queued while the channel is full,
  // up to kMaxQueued messages; past that the oldest go: they are state
  // reports and requests whose answers are awaited with a deadline).
  void send(std::vector<uint8_t> message);

  static constexpr size_t kMaxQueued = 256;

 private:
  void on_readable();
  void on_writable();
  void watch();

  uv_loop_t* loop_;
  ControlHandler& control_;
  common::UniqueFd channel_;
  common::UvHandle<uv_poll_t> poll_;
  ipc::MessageReader reader_;
  std::deque<std::vector<uint8_t>> outbox_;
};

// Why `fd` cannot be the control channel (a SOCK_SEQPACKET Unix socket), or
// nothing when it can.
std::optional<std::string> check_control_socket(int fd);

}  // namespace store
