#pragma once
// The relay's side of its control channel with the supervisor
// (portbroker-store --relay --control-fd 4):
//   in:  store_scope / store_scope_remove (tenants' sockets, as for the
//        embedded store), store_backend (what to relay to: addresses,
//        credentials, TLS material as sealed memfds), store_dialed (a
//        connection asked for, with its socket);
//   out: store_dial (connect me to this node), store_backend_state.
// The relay runs in a network namespace of its own with a seccomp filter
// that refuses new sockets: every connection to Redis comes from the
// supervisor, which dials only what the config names (or, with Sentinel,
// the master a sentinel reported).

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/one_shot_timer.h"
#include "store/control.h"
#include "store/relay/backend.h"
#include "store/relay/relay_executor.h"

namespace store::relay {

// Scopes as the relay keeps them: names only. A tenant's quota (store_mb)
// cannot be enforced exactly on Redis, which keeps no account per prefix,
// so it is not enforced at all (docs/cluster.md), and the log says so.
class RelayScopes final : public ScopeRegistry {
 public:
  bool has_scope(std::string_view name) const override { return names_.contains(name); }
  void set_scope(std::string_view name, size_t max_bytes, common::log::Line& line) override;
  void remove_scope(std::string_view name, common::log::Line& line) override;

 private:
  std::set<std::string, std::less<>> names_;
};

// Asks the supervisor for connections over the control channel.
class ControlDialer final : public Dialer {
 public:
  explicit ControlDialer(uv_loop_t* loop) : loop_(loop) {}
  void attach(ControlChannel& channel) { channel_ = &channel; }
  // How long an answer may take (the supervisor's own connect timeout, plus
  // a margin) before the dial counts as failed.
  void set_timeout_ms(uint64_t timeout_ms) { timeout_ms_ = timeout_ms; }

  void dial(const ipc::StoreDial& request, Done done) override;
  // A store_dialed message and its descriptors.
  bool answer(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);
  void stop();

  // Answers (and the sockets they carry) the relay may wait for at once.
  static constexpr size_t kMaxPending = 64;

 private:
  struct Pending {
    Done done;
    common::OneShotTimer deadline;
  };
  void finish(uint32_t id, common::UniqueFd fd, const std::string& error);

  uv_loop_t* loop_;
  ControlChannel* channel_ = nullptr;
  uint64_t timeout_ms_ = 3000;
  uint32_t next_id_ = 1;
  std::map<uint32_t, std::unique_ptr<Pending>> pending_;
};

class RelayControl final : public ScopeControl {
 public:
  RelayControl(Server& server, RelayScopes& scopes, Backend& backend, RelayExecutor& executor, ControlDialer& dialer)
      : ScopeControl(server, scopes), backend_(backend), executor_(executor), dialer_(dialer) {}

  bool handle(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds) override;

 private:
  bool configure(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds);

  Backend& backend_;
  RelayExecutor& executor_;
  ControlDialer& dialer_;
};

}  // namespace store::relay
