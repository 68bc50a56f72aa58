#pragma once
// The relay's RequestHandler: runs each client request against the Redis
// or Valkey backend (store/relay/backend.h) with the embedded store's rules
// (store/relay/relay_commands.h), so ctx.shared and redis-cli on the
// relay's sockets behave as with the embedded store.
//
// A worker is an attacker: what one client may cost the relay is bounded.
// Its requests wait unread while it has 1 MiB of commands unanswered or one
// KEYS or DBSIZE running; every client's wait while the backend holds
// 64 MiB of unanswered commands (a slow backend cannot make the relay
// grow); KEYS and DBSIZE keep at most a million names; the subscriber table
// has the store's limits (10,000 channels per client, 100,000 in all), and
// the connection layer bounds buffers as for the store.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/memory.h"
#include "store/pubsub.h"
#include "store/relay/backend.h"
#include "store/relay/relay_commands.h"
#include "store/request_handler.h"
#include "store/server.h"

namespace store::relay {

struct RelayLimits {
  size_t max_client_inflight_bytes = 1024 * 1024;
  size_t max_backlog_bytes = 64 * 1024 * 1024;
  size_t max_scan_keys = 1'000'000;
  size_t max_scan_bytes = 64 * 1024 * 1024;  // one KEYS's names, and all scans' together
  size_t scan_count = 1000;                  // SCAN's COUNT
};

class RelayExecutor final : public RequestHandler {
 public:
  RelayExecutor(Backend& backend, PubSub& pubsub, const MemoryAccount& memory, RelayLimits limits = {});
  RelayExecutor(const RelayExecutor&) = delete;
  RelayExecutor& operator=(const RelayExecutor&) = delete;

  // The server whose clients this serves (it is built with this handler).
  void attach(Server& server) { server_ = &server; }
  // The backend's configuration arrived: clients' prefixes are known.
  void configured();

  void client_connected(ClientId client, std::string_view scope) override;
  void client_disconnected(ClientId client) override;
  size_t client_state_bytes(std::string_view scope) const override;
  Outcome execute(ClientId client, std::span<const std::string> args, std::string& reply) override;
  bool accepting(ClientId client) const override;
  void count_dropped_messages(uint64_t count) override { messages_dropped_ += count; }

  // From the backend.
  void on_message(std::string_view channel, std::string_view payload);
  std::vector<std::string> channels() const;

 private:
  struct ClientState {
    std::string scope;
    std::string prefix;  // on the backend: the configured prefix, plus "<scope>:"
    size_t inflight_bytes = 0;
    bool scanning = false;
  };
  struct Scan;

  void forward(ClientId client, ClientState& state, std::string_view command);
  void start_scan(ClientId client, ClientState& state, Action action, std::string pattern);
  void scan_step(const std::shared_ptr<Scan>& scan);
  void scan_reply(const std::shared_ptr<Scan>& scan, const ipc::resp::Value& reply, std::string_view raw);
  void finish_scan(const std::shared_ptr<Scan>& scan, std::string_view reply);
  void subscribe(ClientId client, ClientState& state, const std::vector<std::string>& names, std::string& reply,
                 Outcome& outcome);
  void unsubscribe(ClientId client, ClientState& state, const std::vector<std::string>& names, std::string& reply);
  // A command of `bytes` was answered (or failed): the client's and the
  // backend's budgets get the room back.
  void answered(ClientId client, size_t bytes);
  std::string info_text(const std::vector<std::string>& sections, const ClientState& state) const;
  std::string prefix_for(std::string_view scope) const;

  Backend& backend_;
  PubSub& pubsub_;
  const MemoryAccount& memory_;
  RelayLimits limits_;
  Server* server_ = nullptr;
  bool configured_ = false;
  std::unordered_map<ClientId, ClientState> clients_;
  // Whether some client was told to wait for the backend's backlog.
  mutable bool waiting_for_backlog_ = false;
  size_t scan_bytes_ = 0;  // held by KEYS and DBSIZE under way
  uint64_t commands_processed_ = 0;
  uint64_t connections_received_ = 0;
  uint64_t unavailable_replies_ = 0;
  uint64_t messages_dropped_ = 0;
  uint64_t messages_not_json_ = 0;
  uint64_t not_json_unlogged_ = 0;
  uint64_t not_json_logged_ms_ = 0;
  uint64_t started_ms_ = 0;
};

}  // namespace store::relay
