#pragma once
// Runs the store's commands with Redis 7 semantics (RESP2 replies) against a
// keyspace and a pub/sub registry. No I/O: the server feeds parsed requests in
// and writes out the reply and any published messages this produces.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/keyspace.h"
#include "store/memory.h"
#include "store/pubsub.h"

namespace store {

// What a command asks of the connection layer besides its reply.
struct Outcome {
  // QUIT: close the connection once the reply has been written.
  bool close_connection = false;
  // PUBLISH: the message frame, identical for every recipient, and who gets it.
  std::string message;
  std::vector<ClientId> recipients;
  // A write refused by the memory limit (the server logs these, rate-limited).
  bool rejected_out_of_memory = false;
};

struct ExecutorLimits {
  // Steps one KEYS call may spend matching (see keyspace.h).
  uint64_t keys_work_budget = kDefaultKeysWorkBudget;
};

class Executor {
 public:
  Executor(Keyspace& keyspace, PubSub& pubsub, const MemoryAccount& memory, ExecutorLimits limits = {});

  void client_connected(ClientId client);
  // Drops the client's subscriptions.
  void client_disconnected(ClientId client);
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
  using Args = std::span<const std::string>;

  void ping(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void echo(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void get(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void set(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void del(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void exists(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void keys(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void dbsize(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void publish(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void subscribe(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void unsubscribe(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void quit(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void command(ClientId client, Args args, std::string& reply, Outcome& outcome);
  void info(ClientId client, Args args, std::string& reply, Outcome& outcome);

  std::string info_text(Args sections) const;
  static std::span<const Command> command_table();
  static const Command* find_command(std::string_view name);

  Keyspace& keyspace_;
  PubSub& pubsub_;
  const MemoryAccount& memory_;
  ExecutorLimits limits_;
  size_t connected_clients_ = 0;
  uint64_t commands_processed_ = 0;
  uint64_t connections_received_ = 0;
  uint64_t rejected_out_of_memory_ = 0;
  uint64_t pubsub_messages_dropped_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace store
