#pragma once
// The store's connection layer: accepts clients on the listening Unix socket the
// supervisor passed in, reads RESP requests, hands them to a RequestHandler and
// writes the replies and published messages back. A client that breaks the
// protocol or sends oversized input is disconnected without affecting any
// other. A subscriber that stops reading keeps its connection: messages for it
// are dropped (and counted) while its backlog is full, since closing it would
// let whoever floods a channel take ctx.shared away from its subscribers.
// Every connection's buffers are charged to the store's memory limit.
//
// Besides the unscoped listener (the operator's <run-dir>/store.sock) there
// is one per scope (a tenant's <run-dir>/tenants/<name>/store.sock), and a
// client belongs to the scope of the listener it came through.
//
// Requests run through a RequestHandler: the embedded store's Executor,
// which answers each at once, or the relay's, which answers later (its
// backend replies asynchronously). A reply that comes later holds a place in
// its client's reply order (a ticket), so replies always leave in request
// order, and the client is not read while too many are outstanding.

#include <uv.h>

#include <array>
#include <deque>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/resp.h"
#include "store/memory.h"
#include "store/request_handler.h"

namespace store {

struct ServerLimits {
  ipc::resp::Limits protocol;
  // Bytes received but not yet parsed into a whole request.
  size_t max_pending_input_bytes = 16 * 1024 * 1024;
  // Requests are not read while a client has this much output unsent, so its
  // own replies can take no more than this plus one reply.
  size_t pause_reading_output_bytes = 1024 * 1024;
  // A published message is dropped for a subscriber with unsent output when
  // adding it would pass this, so pushed messages take at most this much (or
  // one message, if larger) per subscriber. Redis's default for pub/sub
  // clients is a soft limit of 8 MB (and a disconnection at 32 MB).
  size_t max_subscriber_backlog_bytes = 8 * 1024 * 1024;
  // Replies a client may have outstanding (deferred, or waiting behind a
  // deferred one) before its requests wait unread.
  size_t max_deferred_replies = 4096;
};

// A deferred reply's place in its client's reply order.
struct ReplyTicket {
  ClientId client = 0;
  uint64_t sequence = 0;
};

// Why `fd` cannot serve as a listener (a listening Unix stream socket), or
// nothing when it can.
std::optional<std::string> check_listening_socket(int fd);

class Server {
 public:
  Server(uv_loop_t* loop, RequestHandler& handler, MemoryAccount& memory, ServerLimits limits = {});
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Starts accepting on `listening_socket` (already bound and listening),
  // for clients of `scope` (empty: unscoped), in place of any listener the
  // scope had (its clients stay). Returns false, logged, on failure.
  bool listen(common::UniqueFd listening_socket, std::string_view scope = {});
  // Stops accepting for `scope` and closes its clients.
  void close_scope(std::string_view scope);
  // Stops accepting and closes every client; idempotent.
  void stop();

  // Within RequestHandler::execute: the reply to the request being run comes
  // later, through complete().
  ReplyTicket defer_reply();
  // The deferred reply (whole RESP values). A ticket whose client has gone
  // is ignored. The client's output is written, and its waiting requests
  // run, once the current callback is over.
  void complete(const ReplyTicket& ticket, std::string_view reply);
  // Published messages from elsewhere (the relay's backend), with the same
  // backlog rule as PUBLISH's.
  void deliver(const std::vector<Delivery>& deliveries);
  // The handler accepts the client's requests again (see accepting()).
  void resume(ClientId client);
  void resume_all();

  bool listening(std::string_view scope) const { return listeners_.contains(scope); }
  size_t client_count() const { return clients_.size(); }
  size_t client_count(std::string_view scope) const;

 private:
  struct Client;
  struct Listener;
  struct WriteRequest;

  static void on_connection(uv_stream_t* listener, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);

  void accept_client(Listener& listener);
  void handle_input(Client& client);
  void run_request(Client& client, const std::vector<std::string>& args);
  void deliver_now(const std::vector<Delivery>& deliveries);
  // Appends a reply or message: to the output, or behind a deferred reply.
  void push_output(Client& client, std::string_view bytes);
  void release_ready(Client& client);
  bool may_run_requests(const Client& client) const;
  // Serves the client once the current callback is over (uv_check).
  void schedule(Client& client);
  static void on_check(uv_check_t* handle);
  // Charges the client's buffers, as they are now, to the memory account.
  void account(Client& client);
  void queue_output(Client& client, std::string_view bytes);
  void flush(Client& client);
  void write_finished(Client& client, int status);
  void update_reading(Client& client);
  void note_out_of_memory(const Client& client, const std::string& command, const std::string& over_quota_scope);
  void note_dropped_message(Client& subscriber);
  // Closes the connection now; the Client object lives until the current
  // callback returns (see reap_closed), so callers up the stack stay valid.
  void close_client(Client& client, common::log::Level level, std::string_view reason);
  void reap_closed();

  uv_loop_t* loop_;
  RequestHandler& handler_;
  MemoryAccount& memory_;
  ServerLimits limits_;
  std::map<std::string, std::unique_ptr<Listener>, std::less<>> listeners_;  // by scope, "" unscoped
  std::unordered_map<ClientId, std::unique_ptr<Client>> clients_;
  std::vector<std::unique_ptr<Client>> closed_;
  // The client whose request is running (defer_reply's), and clients to
  // serve after the current callback: an idle handle keeps the loop from
  // blocking until the check has run.
  Client* running_ = nullptr;
  std::vector<ClientId> scheduled_;
  common::UvHandle<uv_check_t> check_;
  common::UvHandle<uv_idle_t> idle_;
  std::string queued_reply_;
  ClientId next_client_id_ = 1;
  // Refused writes, logged at most once a minute for the store and once a
  // minute per scope (so one tenant at its quota does not hide another).
  struct RefusalLog {
    uint64_t unlogged = 0;
    std::optional<uint64_t> last_ms;
  };
  RefusalLog store_full_log_;
  std::map<std::string, RefusalLog, std::less<>> scope_full_logs_;
  uint64_t dropped_messages_unlogged_ = 0;
  std::optional<uint64_t> last_drop_log_ms_;
  // libuv reads into this and the bytes are appended to the client's input at
  // once; one buffer serves every client since the loop is single-threaded.
  std::array<char, 64 * 1024> read_buffer_{};
};

}  // namespace store
