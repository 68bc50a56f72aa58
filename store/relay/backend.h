#pragma once
// The relay's view of its Redis or Valkey backend: which node is the server
// (the configured one, or the master Sentinel names), the connections to it,
// and its state.
//
// Two connections to the server, multiplexing every client: one for
// commands, pipelined (Redis answers a connection's commands in order, and
// the relay allows no command that blocks or holds state between commands),
// and one for pub/sub, subscribed to every channel some client wants, once
// (the relay keeps the subscriber table). With Sentinel a third connection,
// to a sentinel, follows +switch-master. docs/cluster.md has the reasons and
// the measurements.
//
// States: connecting (the first attempt, or following a failover: commands
// wait, up to the timeout), up, and down (commands fail at once with
// UNAVAILABLE, and attempts repeat with exponential back-off and jitter).
// Each change is logged once and reported to the supervisor; attempts are
// logged at debug level only. Subscriptions survive outages: the relay
// subscribes every channel again before it calls the backend up.

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/one_shot_timer.h"
#include "common/unique_fd.h"
#include "ipc/messages.h"
#include "ipc/resp.h"
#include "store/relay/sentinel_replies.h"
#include "store/relay/tls_client.h"
#include "store/relay/upstream.h"

namespace store::relay {

// Connections come from the supervisor: the relay has no network of its own.
class Dialer {
 public:
  using Done = std::function<void(common::UniqueFd fd, const std::string& error)>;
  virtual ~Dialer() = default;
  // `done` is called exactly once, never from inside dial().
  virtual void dial(const ipc::StoreDial& request, Done done) = 0;
};

// Back-off before attempt `failures` + 1: 100 ms doubling to 5 s, each
// drawn from its upper half (jitter, so relays on many hosts do not
// reconnect in step after an outage). `random` is uniform in [0, 1).
uint64_t backoff_delay_ms(unsigned failures, double random);

class Backend {
 public:
  // The reply to a command: the backend's, or an UNAVAILABLE error the
  // relay made up. `raw` is the reply's RESP bytes.
  using Done = std::function<void(const ipc::resp::Value& reply, std::string_view raw)>;
  struct Events {
    std::function<void(std::string_view channel, std::string_view payload)> on_message;
    // Every channel some client is subscribed to (backend names), to
    // subscribe again after a reconnection.
    std::function<std::vector<std::string>()> channels;
    std::function<void(const ipc::StoreBackendState&)> on_state;
  };

  static constexpr uint64_t kMaxBackoffMs = 5000;
  // Channels per SUBSCRIBE when restoring subscriptions.
  static constexpr size_t kChannelsPerSubscribe = 1024;

  Backend(uv_loop_t* loop, Dialer& dialer);
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  ~Backend();

  // The backend to serve from, and its TLS material; starts connecting.
  // Once only.
  bool configure(ipc::StoreBackend config, std::string_view ca_pem, std::string_view cert_pem,
                 std::string_view key_pem, std::string& error);
  bool configured() const { return configured_; }
  // Who hears messages and state changes (set before configure()).
  void set_events(Events events) { events_ = std::move(events); }
  // Closes every connection and timer: the process is stopping. Nothing is
  // called back after this.
  void stop();

  // Sends one command; `done` gets its reply exactly once (at once when the
  // backend is down).
  void submit(std::string_view command, Done done);
  // Whether subscriptions go to the backend now (else they are restored
  // when it returns).
  bool subscriber_usable() const { return subscriber_usable_; }
  // `confirmed` runs once the backend confirmed them, or the connection
  // failed (they are restored with the others then).
  void subscribe(const std::vector<std::string>& channels, std::function<void()> confirmed);
  void unsubscribe(const std::vector<std::string>& channels);

  // Commands waiting or in flight, in bytes.
  size_t backlog_bytes() const;
  const ipc::StoreBackendState& state() const { return state_; }
  const std::string& prefix() const { return config_.prefix; }
  bool sentinel() const { return config_.kind == ipc::StoreBackendKind::sentinel; }
  const std::string& master_name() const { return config_.master_name; }
  // "-UNAVAILABLE ...\r\n" as things stand.
  std::string unavailable_reply() const;

 private:
  enum class Phase { unconfigured, connecting, up, down };
  struct Held {
    std::string command;
    Done done;
    uint64_t deadline_ms = 0;
  };
  // A sentinel session: asks for the master's address, then stays
  // subscribed to +switch-master.
  enum class SentinelPurpose { discover, watch };

  void attempt();
  void ask_sentinel(uint64_t generation, size_t tries, SentinelPurpose purpose, std::string errors);
  void on_master_address(uint64_t generation, const NodeAddress& address, SentinelPurpose purpose);
  void connect_data(uint64_t generation, const ipc::StoreDial& target, const std::string& peer_name);
  void start_link(uint64_t generation, common::UniqueFd fd, const std::string& peer_name, bool subscriber);
  void link_ready(uint64_t generation);
  void restore_subscriptions(uint64_t generation);
  void link_failed(uint64_t generation, const std::string& error);
  void went_up();
  void failover(const NodeAddress& address);
  void schedule_retry();
  void schedule_watch();
  void on_switch_master(const ipc::resp::Value& message);
  std::unique_ptr<Upstream> make_upstream(const std::string& label, std::function<void(const std::string&)> on_closed);
  // The AUTH (and SELECT) a new connection starts with; `refused` hears
  // an error reply to any of them.
  void send_handshake(Upstream& link, bool to_sentinel, std::function<void(const std::string&)> refused);
  void retire(std::unique_ptr<Upstream>& link);
  void close_data_links();
  void expire_held();
  void fail_held();
  void send_now(std::string_view command, Done done);
  void set_phase(Phase phase, const std::string& error);
  void report();
  // The name TLS verifies a node by: the configured server_name, or its host.
  std::string peer_name_for(const std::string& host) const;
  uint64_t wall_ms() const;

  uv_loop_t* loop_;
  Dialer& dialer_;
  Events events_;
  ipc::StoreBackend config_;
  std::unique_ptr<TlsClientContext> tls_;
  bool configured_ = false;
  bool destroying_ = false;

  Phase phase_ = Phase::unconfigured;
  ipc::StoreBackendState state_;
  // Bumped by every attempt: what an older one started (dial answers,
  // callbacks) is ignored when it comes back.
  uint64_t generation_ = 0;
  std::unique_ptr<Upstream> command_;
  std::unique_ptr<Upstream> subscriber_;
  std::unique_ptr<Upstream> watcher_;
  uint64_t watch_generation_ = 0;
  bool command_ready_ = false;
  bool subscriber_ready_ = false;
  bool subscriber_usable_ = false;
  NodeAddress master_;      // Sentinel: the master in use (or being connected to)
  size_t first_sentinel_ = 0;  // the one that answered last is asked first
  unsigned failures_ = 0;      // attempts failed since the backend was last up
  unsigned watch_failures_ = 0;
  bool watch_lost_logged_ = false;
  common::OneShotTimer retry_timer_;
  common::OneShotTimer watch_timer_;
  std::deque<Held> held_;
  size_t held_bytes_ = 0;
  common::OneShotTimer held_timer_;
  std::vector<std::unique_ptr<Upstream>> retired_;
  common::OneShotTimer reaper_;
  std::mt19937_64 random_;
};

}  // namespace store::relay
