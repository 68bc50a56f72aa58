#pragma once
// What the store's connection layer (store/server.h) runs requests with: the
// embedded store's Executor (store/commands.h), or the relay's executor that
// forwards them to Redis or Valkey (store/relay/relay_executor.h). The
// connection layer owns sockets, buffers, limits and reply order; a handler
// owns what the commands mean.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace store {

using ClientId = uint64_t;

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

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // `scope` is the client's scope (a tenant's name), empty for none.
  virtual void client_connected(ClientId client, std::string_view scope) = 0;
  virtual void client_disconnected(ClientId client) = 0;
  // What the handler keeps per client, for the server's memory accounting.
  virtual size_t client_state_bytes(std::string_view scope) const = 0;
  // Runs one request (`args` not empty) and appends its reply to `reply`,
  // or asks the server for a ticket (Server::defer_reply) and completes it
  // later, possibly before returning.
  virtual Outcome execute(ClientId client, std::span<const std::string> args, std::string& reply) = 0;
  // Whether the client's next request may run now; when false the server
  // leaves it unread until Server::resume. (A relay bounds what one client
  // has in flight towards its backend.)
  virtual bool accepting(ClientId) const { return true; }
  // The server dropped `count` published messages for a subscriber too far behind.
  virtual void count_dropped_messages(uint64_t count) = 0;
};

}  // namespace store
