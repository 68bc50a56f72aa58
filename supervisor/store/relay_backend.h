#pragma once
// ctx.shared on Redis or Valkey (standalone or behind Sentinel): the
// supervisor's half of the store relay (store/relay/ is the other).
//
// At start it reads what the config names, as root: the password files
// (owned by root, no access for group or others), the CA bundle, the client
// certificate and key; each is checked, and the certificates and key are
// parsed and encoded again. They reach each relay process on its control
// channel (passwords in the message, PEM texts as sealed memfds): never on
// a command line, in the environment, in a log line or in status.
//
// The relay has no network of its own (its own network namespace, and a
// seccomp filter that refuses new sockets): it asks, and the supervisor
// connects it to the configured server or sentinels, or, with Sentinel, to
// the master's address a sentinel reported. Requests are bounded (16 under
// way, 50 a second). The relay reports the backend's state, which status
// and metrics show.

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ipc/messages.h"
#include "policy/store_backend.h"
#include "supervisor/store/backend.h"
#include "supervisor/store/node_dialer.h"

namespace supervisor {

class RelayBackend final : public StoreBackend {
 public:
  static constexpr size_t kMaxDialsInFlight = 16;
  static constexpr size_t kMaxDialsPerSecond = 50;

  // Reads and checks the files `config` names; null with `error` (naming
  // the field and the file) if any is unusable.
  static std::unique_ptr<RelayBackend> create(uv_loop_t* loop, const policy::StoreBackendConfig& config,
                                              std::string& error);
  ~RelayBackend() override;

  std::vector<std::string> store_arguments() const override { return {"--relay"}; }
  void on_store_started(StoreControl& store) override;
  void on_store_message(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds,
                        StoreControl& store) override;
  void on_store_exited() override;
  bool counts_keys() const override { return false; }
  nlohmann::json status() const override;
  void stop() override { dialer_.cancel_all(); }

 private:
  RelayBackend(uv_loop_t* loop, const policy::StoreBackendConfig& config);
  void dial(const ipc::StoreDial& request, StoreControl& store);
  void update_state(const ipc::StoreBackendState& state);

  uv_loop_t* loop_;
  policy::StoreBackendConfig config_;
  ipc::StoreBackend message_;  // holds the passwords: never logged
  std::string ca_pem_;
  std::string cert_pem_;
  std::string key_pem_;
  NodeDialer dialer_;
  // Answers go to the relay process that asked, never to its successor.
  uint64_t store_generation_ = 0;
  std::deque<uint64_t> recent_dials_ms_;
  // The backend's state as the relay last reported it, and what the
  // supervisor counts across relay restarts.
  ipc::StoreBackendState state_;
  bool relay_running_ = false;
  uint64_t outages_ = 0;
  uint64_t failovers_ = 0;
  uint64_t relay_failovers_ = 0;  // the running relay's own count, last reported
};

// "2024-05-01T12:00:00Z"
std::string iso_time_ms(uint64_t ms_since_epoch);

}  // namespace supervisor
