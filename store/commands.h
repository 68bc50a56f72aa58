#pragma once
// Runs the store's commands with Redis 7 semantics (RESP2 replies) against a
// keyspace and a pub/sub registry. No I/O: the server feeds parsed requests in
// and writes out the reply and any published messages this produces.
//
// Each client belongs to a scope (a tenant's part of the store), or to none
// (the operator's view, which sees everything). A client of scope `alice`
// names keys and channels as it likes, and the store adds `alice:` to each:
// it can neither name nor see, count or reach anything else. Replies and
// published messages show it names without the prefix. See
// docs/architecture.md ("Scopes").

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/command_rules.h"
#include "store/keyspace.h"
#include "store/memory.h"
#include "store/pubsub.h"
#include "store/request_handler.h"

namespace store {

struct ExecutorLimits {
  // Steps one KEYS call may spend matching (see keyspace.h).
  uint64_t keys_work_budget = kDefaultKeysWorkBudget;
};

class Executor final : public RequestHandler {
 public:
  Executor(Keyspace& keyspace, PubSub& pubsub, const MemoryAccount& memory, ExecutorLimits limits = {});

  // `scope` is the client's scope, empty for none. The scope's name is a
  // tenant's (policy::tenant_name_valid); it needs no quota in the keyspace,
  // but without one its writes are limited only by the store's limit.
  void client_connected(ClientId client, std::string_view scope = {}) override;
  // Drops the client's subscriptions.
  void client_disconnected(ClientId client) override;
  // The client's scope (empty: none, or not connected).
  std::string_view scope_of(ClientId client) const;
  // What the executor keeps per client, for the server's accounting.
  size_t client_state_bytes(std::string_view scope) const override { return state_bytes(scope); }
  static size_t state_bytes(std::string_view scope);
  bool in_subscribe_mode(ClientId client) const { return pubsub_.subscription_count(client) > 0; }
  // The server dropped `count` published messages for a subscriber too far
  // behind (INFO stats: pubsub_messages_dropped).
  void count_dropped_messages(uint64_t count) override { pubsub_messages_dropped_ += count; }

  // The commands as clients see them (the store relay serves the same).
  static std::span<const CommandRule> command_rules();

  // Runs one request (`args` non-empty: name and arguments) for `client` and
  // appends exactly one reply per command to `reply` (SUBSCRIBE and UNSUBSCRIBE
  // append one frame per channel, as Redis does).
  Outcome execute(ClientId client, std::span<const std::string> args, std::string& reply) override;

 private:
  struct Command;
  struct Call;
  using Args = std::span<const std::string>;
  // A scope's name and the prefix its keys and channels carry ("alice:");
  // both empty for unscoped clients.
  struct ClientScope {
    std::string name;
    std::string prefix;
  };

  void ping(Call& call);
  void echo(Call& call);
  void get(Call& call);
  void set(Call& call);
  void del(Call& call);
  void exists(Call& call);
  void keys(Call& call);
  void scan(Call& call);
  // The keys KEYS or SCAN (`command`) asks for, or nothing after replying
  // that the work budget ran out.
  std::optional<std::vector<std::string_view>> keys_matching(Call& call, std::string_view pattern,
                                                             std::string_view command);
  void dbsize(Call& call);
  void publish(Call& call);
  void subscribe(Call& call);
  void unsubscribe(Call& call);
  void quit(Call& call);
  void command(Call& call);
  void info(Call& call);

  std::string info_text(Args sections) const;
  std::string scoped_info_text(Args sections, std::string_view scope) const;
  const ClientScope* client_scope(ClientId client) const;
  static std::span<const Command> command_table();

  Keyspace& keyspace_;
  PubSub& pubsub_;
  const MemoryAccount& memory_;
  ExecutorLimits limits_;
  // Scoped clients only: an unscoped client has no entry.
  std::unordered_map<ClientId, ClientScope> scopes_;
  size_t connected_clients_ = 0;
  uint64_t commands_processed_ = 0;
  uint64_t connections_received_ = 0;
  uint64_t rejected_out_of_memory_ = 0;
  uint64_t pubsub_messages_dropped_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace store
