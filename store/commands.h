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
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/keyspace.h"
#include "store/memory.h"
#include "store/pubsub.h"

namespace store {

// A published message for the subscribers who see it under one name: a
// channel `alice:news` is `news` to alice's clients and `alice:news` to
// unscoped ones.
struct Delivery {
  std::string message;              // the frame, identical for each of them
  std::vector<ClientId> recipients;  // in id order
};

// What a command asks of the connection layer besides its reply.
struct Outcome {
  // QUIT: close the connection once the reply has been written.
  bool close_connection = false;
  // PUBLISH: one delivery per name the channel has for its subscribers.
  std::vector<Delivery> deliveries;
  // A write refused by the memory limit or a scope's quota (the server logs
  // these, rate-limited).
  bool rejected_out_of_memory = false;
  // When it was a scope's quota: that scope.
  std::string over_quota_scope;
};

struct ExecutorLimits {
  // Steps one KEYS call may spend matching (see keyspace.h).
  uint64_t keys_work_budget = kDefaultKeysWorkBudget;
};

class Executor {
 public:
  Executor(Keyspace& keyspace, PubSub& pubsub, const MemoryAccount& memory, ExecutorLimits limits = {});

  // `scope` is the client's scope, empty for none. The scope's name is a
  // tenant's (policy::tenant_name_valid); it needs no quota in the keyspace,
  // but without one its writes are limited only by the store's limit.
  void client_connected(ClientId client, std::string_view scope = {});
  // Drops the client's subscriptions.
  void client_disconnected(ClientId client);
  // The client's scope (empty: none, or not connected).
  std::string_view scope_of(ClientId client) const;
  // What the executor keeps per client, for the server's accounting.
  static size_t client_state_bytes(std::string_view scope);
  bool in_subscribe_mode(ClientId client) const { return pubsub_.subscription_count(client) > 0; }
  // The server dropped `count` published messages for a subscriber too far
  // behind (INFO stats: pubsub_messages_dropped).
  void count_dropped_messages(uint64_t count) { pubsub_messages_dropped_ += count; }

  // Runs one request (`args` non-empty: name and arguments) for `client` and
  // appends exactly one reply per command to `reply` (SUBSCRIBE and UNSUBSCRIBE
  // append one frame per channel, as Redis does).
  Outcome execute(ClientId client, std::span<const std::string> args, std::string& reply);

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
  static const Command* find_command(std::string_view name);

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
