#pragma once
// What backs ctx.shared, as the supervisor's StoreService sees it. The
// StoreService owns what every backend shares: the sockets
// (<run-dir>/store.sock, each tenant's), the portbroker-store process and its
// restarts, the control channel and the tenants' scopes. A backend adds
// what differs:
//   - the embedded store (the default): nothing; the process holds the keys;
//   - Redis or Valkey, standalone or behind Sentinel (relay_backend.h): the
//     process runs as a relay, gets the backend's address, credentials and
//     TLS material on its control channel, and asks the supervisor to
//     connect it to nodes, since it has no network of its own.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/unique_fd.h"

namespace supervisor {

// The running store process's control channel, as a backend may use it.
class StoreControl {
 public:
  virtual ~StoreControl() = default;
  // `fds` are duplicated as needed: the caller keeps its own.
  virtual void send_control(std::vector<uint8_t> bytes, std::span<const int> fds = {}) = 0;
};

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;

  // Arguments portbroker-store gets besides the listening socket and the
  // control channel ("--relay").
  virtual std::vector<std::string> store_arguments() const = 0;
  // A store process started: what it needs first, before any scope.
  virtual void on_store_started(StoreControl& store) = 0;
  // A message the store sent (the relay's requests and reports); it takes
  // `fds`. The store is less trusted than the supervisor (it serves
  // workers): everything is decoded, bounded and checked.
  virtual void on_store_message(std::span<const uint8_t> message, std::vector<common::UniqueFd>& fds,
                                StoreControl& store) = 0;
  // The store process ended (it is restarted).
  virtual void on_store_exited() = 0;
  // Whether the store's keys are counted for metrics (DBSIZE every second):
  // only the embedded store's, which counts without scanning.
  virtual bool counts_keys() const = 0;
  // For status: {"kind", ...} (see docs/cluster.md).
  virtual nlohmann::json status() const = 0;
  // Stops whatever the backend has under way (the broker is stopping).
  virtual void stop() {}
};

std::unique_ptr<StoreBackend> make_embedded_backend();

}  // namespace supervisor
