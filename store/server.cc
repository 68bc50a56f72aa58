#include "store/server.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <string_view>

#include "common/log.h"
#include "common/process.h"
#include "store/inherited_socket.h"

namespace store {
namespace {

namespace log = common::log;

// A store that is full gets a SET per handler call; one warning a minute (with
// the count of rejections since the last) says so without flooding the log.
constexpr uint64_t kOutOfMemoryLogIntervalMs = 60 * 1000;
// Likewise for messages dropped for subscribers that fell behind.
constexpr uint64_t kDroppedMessageLogIntervalMs = 60 * 1000;

// An input buffer that grew for one large request gives the memory back once
// it has been parsed, or an idle connection would hold it for good.
constexpr size_t kKeptInputCapacity = 64 * 1024;

// How the peer shows up in the log: its credentials, since Unix-socket clients
// have no address. Under the supervisor these are the workers' pid and uid.
std::string describe_peer(const uv_pipe_t* pipe) {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(pipe), &fd) != 0) return "unknown";
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return "unknown";
  return "pid:" + std::to_string(credentials.pid) + ",uid:" + std::to_string(credentials.uid);
}

std::string uv_error_text(int status) { return std::string(uv_err_name(status)) + ": " + uv_strerror(status); }

}  // namespace

std::optional<std::string> check_listening_socket(int fd) {
  if (auto problem = check_socket_type(fd, SOCK_STREAM, "stream")) return problem;
  std::string name = "fd " + std::to_string(fd);
  int listening = 0;
  socklen_t length = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening == 0) {
    return name + " is not a listening socket";
  }
  sockaddr_storage address{};
  length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 || address.ss_family != AF_UNIX) {
    return name + " is not a Unix socket";
  }
  return std::nullopt;
}

// A listening socket and the scope its clients belong to.
struct Server::Listener {
  Listener(Server& owner, std::string_view scope_name) : server(owner), scope(scope_name) {}
  Server& server;
  const std::string scope;
  common::UvHandle<uv_pipe_t> pipe;
};

// Owns the bytes of one uv_write until libuv reports it done (or cancelled,
// which happens when the client's pipe is closed with the write pending).
struct Server::WriteRequest {
  uv_write_t request{};
  std::string bytes;
};

struct Server::Client {
  Client(Server& owner, ClientId client_id) : server(owner), id(client_id) {}

  // A reply that must wait: deferred (not ready yet), or behind one that is.
  struct Slot {
    uint64_t sequence = 0;
    std::string bytes;
    bool ready = false;
  };

  size_t pending_output() const { return output.size() + bytes_in_flight + slot_bytes; }
  // What the connection holds: its own state, its buffers and the write in
  // flight (see memory.h for the estimates).
  size_t footprint() const {
    return fixed_bytes + string_heap_bytes(input) + string_heap_bytes(output) +
           (bytes_in_flight > 0 ? allocation_bytes(sizeof(WriteRequest)) + string_heap_bytes(in_flight_capacity) : 0) +
           slot_bytes + slots.size() * sizeof(Slot);
  }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(pipe.get()); }

  Server& server;
  const ClientId id;
  std::string scope;  // empty: unscoped
  std::string peer;
  common::UvHandle<uv_pipe_t> pipe;
  std::string input;   // received, not yet parsed
  std::string output;  // produced, not yet handed to libuv
  size_t bytes_in_flight = 0;  // handed to libuv by the one outstanding write
  size_t in_flight_capacity = 0;
  std::deque<Slot> slots;  // in request order; empty unless a reply was deferred
  uint64_t next_sequence = 0;
  size_t slot_bytes = 0;   // the ready slots' bytes
  size_t fixed_bytes = 0;          // this object, its pipe, its table entry, `peer`
  size_t accounted_bytes = 0;      // charged to the memory account
  uint64_t messages_dropped = 0;   // published messages it was too far behind to get
  bool reading = false;
  bool peer_finished = false;      // EOF: no more requests will arrive
  bool close_after_write = false;  // QUIT or a protocol error: flush, then close
  bool closed = false;
  bool busy = false;       // its requests are running (handle_input is up the stack)
  bool scheduled = false;  // in scheduled_
};

Server::Server(uv_loop_t* loop, RequestHandler& handler, MemoryAccount& memory, ServerLimits limits)
    : loop_(loop), handler_(handler), memory_(memory), limits_(limits) {}

Server::~Server() { stop(); }

bool Server::listen(common::UniqueFd listening_socket, std::string_view scope) {
  auto listener = std::make_unique<Listener>(*this, scope);
  int rc = listener->pipe.init(uv_pipe_init, loop_, 0);
  if (rc == 0) rc = uv_pipe_open(listener->pipe.get(), listening_socket.get());
  if (rc != 0) {
    log::error("store-listen-failed")
        .kv_nonempty("scope", scope)
        .kv("fd", listening_socket.get())
        .kv("error", uv_error_text(rc));
    return false;
  }
  // libuv owns the descriptor now and closes it with the handle.
  int fd = listening_socket.release();
  listener->pipe->data = listener.get();
  rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener->pipe.get()), SOMAXCONN, on_connection);
  if (rc != 0) {
    log::error("store-listen-failed").kv_nonempty("scope", scope).kv("fd", fd).kv("error", uv_error_text(rc));
    return false;
  }
  // Replaces the scope's listener, if it had one: the old socket closes with it.
  auto it = listeners_.find(scope);
  if (it != listeners_.end()) {
    it->second = std::move(listener);
  } else {
    listeners_.emplace(std::string(scope), std::move(listener));
  }
  return true;
}

void Server::close_scope(std::string_view scope) {
  if (auto it = listeners_.find(scope); it != listeners_.end()) listeners_.erase(it);
  std::vector<Client*> leaving;
  for (auto& [id, client] : clients_) {
    if (client->scope == scope) leaving.push_back(client.get());
  }
  for (Client* client : leaving) close_client(*client, log::Level::info, "its scope was removed");
  if (auto it = scope_full_logs_.find(scope); it != scope_full_logs_.end()) scope_full_logs_.erase(it);
  // Called from the control channel's callback: no client is up the stack.
  reap_closed();
}

size_t Server::client_count(std::string_view scope) const {
  size_t count = 0;
  for (const auto& [id, client] : clients_) count += client->scope == scope ? 1 : 0;
  return count;
}

void Server::stop() {
  listeners_.clear();
  check_.reset();
  idle_.reset();
  while (!clients_.empty()) close_client(*clients_.begin()->second, log::Level::debug, "store stopping");
  reap_closed();
}

void Server::on_connection(uv_stream_t* stream, int status) {
  auto* listener = static_cast<Listener*>(stream->data);
  if (listener == nullptr) return;
  Server& server = listener->server;
  if (status < 0) {
    log::warn("store-accept-failed").kv_nonempty("scope", listener->scope).kv("error", uv_error_text(status));
    return;
  }
  server.accept_client(*listener);
  server.reap_closed();
}

void Server::accept_client(Listener& listener) {
  auto client = std::make_unique<Client>(*this, next_client_id_++);
  int rc = client->pipe.init(uv_pipe_init, loop_, 0);
  if (rc == 0) rc = uv_accept(reinterpret_cast<uv_stream_t*>(listener.pipe.get()), client->stream());
  if (rc != 0) {
    log::warn("store-accept-failed").kv_nonempty("scope", listener.scope).kv("error", uv_error_text(rc));
    return;
  }
  client->pipe->data = client.get();
  client->scope = listener.scope;
  client->peer = describe_peer(client->pipe.get());
  client->fixed_bytes = allocation_bytes(sizeof(Client)) + allocation_bytes(sizeof(uv_pipe_t)) +
                        hash_node_bytes<decltype(clients_)>() + string_heap_bytes(client->peer) +
                        string_heap_bytes(client->scope) + handler_.client_state_bytes(client->scope);
  Client& added = *clients_.emplace(client->id, std::move(client)).first->second;
  handler_.client_connected(added.id, added.scope);
  log::debug("store-client-connected").kv("client", added.id).kv_nonempty("scope", added.scope).kv("peer", added.peer);
  update_reading(added);
  account(added);
}

void Server::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* client = static_cast<Client*>(handle->data);
  if (client == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  auto& buffer = client->server.read_buffer_;
  *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void Server::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* client = static_cast<Client*>(stream->data);
  if (client == nullptr || nread == 0) return;
  Server& server = client->server;
  if (nread > 0) {
    client->input.append(buf->base, static_cast<size_t>(nread));
    // Charged before its requests run, so a write in it sees the room it takes.
    server.account(*client);
    if (client->input.size() > server.limits_.max_pending_input_bytes) {
      server.close_client(*client, log::Level::warn,
                          "pending input exceeds " + std::to_string(server.limits_.max_pending_input_bytes) +
                              " bytes");
    } else {
      server.handle_input(*client);
    }
  } else if (nread == UV_EOF) {
    // libuv has stopped reading. Requests already received still get their
    // replies (a client may half-close after its last request, as nc does).
    client->reading = false;
    client->peer_finished = true;
    server.handle_input(*client);
  } else {
    server.close_client(*client, log::Level::warn, "read failed: " + uv_error_text(static_cast<int>(nread)));
  }
  server.reap_closed();
}

bool Server::may_run_requests(const Client& client) const {
  return !client.closed && !client.close_after_write && client.pending_output() < limits_.pause_reading_output_bytes &&
         client.slots.size() < limits_.max_deferred_replies && handler_.accepting(client.id);
}

void Server::handle_input(Client& client) {
  size_t offset = 0;
  std::vector<std::string> args;
  client.busy = true;
  while (may_run_requests(client)) {
    size_t consumed = 0;
    std::string error;
    auto status = ipc::resp::parse_request(std::string_view(client.input).substr(offset), limits_.protocol, args,
                                           consumed, error);
    if (status == ipc::resp::ParseStatus::incomplete) {
      // Nothing more can complete this request once the peer has finished.
      if (client.peer_finished) client.close_after_write = true;
      break;
    }
    if (status == ipc::resp::ParseStatus::error) {
      // The stream cannot be resynchronised: answer like Redis, then hang up.
      log::warn("store-client-error")
          .kv("client", client.id)
          .kv("peer", client.peer)
          .kv("error", "protocol error: " + error);
      ipc::resp::append_error(client.output, "ERR Protocol error: " + error);
      client.close_after_write = true;
      offset = client.input.size();
      break;
    }
    offset += consumed;
    if (!args.empty()) run_request(client, args);
  }
  client.busy = false;
  if (client.closed) return;
  client.input.erase(0, offset);
  size_t capacity = client.input.capacity();
  if (offset > 0 && capacity > kKeptInputCapacity && capacity > 4 * client.input.size()) client.input.shrink_to_fit();
  flush(client);
  update_reading(client);
  account(client);
}

void Server::run_request(Client& client, const std::vector<std::string>& args) {
  // Behind a deferred reply, this one waits its turn in a slot.
  bool behind = !client.slots.empty();
  queued_reply_.clear();
  running_ = &client;
  Outcome outcome = handler_.execute(client.id, args, behind ? queued_reply_ : client.output);
  running_ = nullptr;
  if (behind && !queued_reply_.empty()) push_output(client, queued_reply_);
  if (outcome.rejected_out_of_memory) note_out_of_memory(client, args[0], outcome.over_quota_scope);
  if (outcome.close_connection) client.close_after_write = true;
  if (!outcome.deliveries.empty()) deliver_now(outcome.deliveries);
}

ReplyTicket Server::defer_reply() {
  // Only a handler's execute() asks, and run_request set running_ for it.
  Client& client = *running_;
  uint64_t sequence = client.next_sequence++;
  client.slots.push_back(Client::Slot{sequence, {}, false});
  return {client.id, sequence};
}

void Server::complete(const ReplyTicket& ticket, std::string_view reply) {
  auto it = clients_.find(ticket.client);
  if (it == clients_.end() || it->second->closed) return;
  Client& client = *it->second;
  if (client.slots.empty() || ticket.sequence < client.slots.front().sequence) return;
  size_t index = static_cast<size_t>(ticket.sequence - client.slots.front().sequence);
  if (index >= client.slots.size() || client.slots[index].ready) return;
  auto& slot = client.slots[index];
  slot.bytes.assign(reply);
  slot.ready = true;
  client.slot_bytes += slot.bytes.size();
  release_ready(client);
  schedule(client);
}

void Server::push_output(Client& client, std::string_view bytes) {
  if (client.slots.empty()) {
    client.output += bytes;
    return;
  }
  client.slots.push_back(Client::Slot{client.next_sequence++, std::string(bytes), true});
  client.slot_bytes += bytes.size();
}

void Server::release_ready(Client& client) {
  while (!client.slots.empty() && client.slots.front().ready) {
    client.output += client.slots.front().bytes;
    client.slot_bytes -= client.slots.front().bytes.size();
    client.slots.pop_front();
  }
}

void Server::resume(ClientId id) {
  auto it = clients_.find(id);
  if (it != clients_.end()) schedule(*it->second);
}

void Server::resume_all() {
  for (auto& [id, client] : clients_) schedule(*client);
}

void Server::schedule(Client& client) {
  // Not at once: this may be called from deep inside the handler (its
  // backend failing every call it holds), where serving the client (running
  // its next requests through that same handler) would re-enter it.
  if (client.closed || client.scheduled || client.busy) return;
  client.scheduled = true;
  scheduled_.push_back(client.id);
  if (!check_) {
    if (check_.init(uv_check_init, loop_) != 0 || idle_.init(uv_idle_init, loop_) != 0) {
      log::error("store-schedule-failed").kv("error", "cannot create loop handles");
      return;
    }
    check_->data = this;
  }
  uv_check_start(check_.get(), on_check);
  // An active idle handle makes the loop poll without blocking, so the check
  // runs in this iteration even when called from a timer.
  uv_idle_start(idle_.get(), [](uv_idle_t*) {});
}

void Server::on_check(uv_check_t* handle) {
  auto* server = static_cast<Server*>(handle->data);
  if (server == nullptr) return;
  uv_check_stop(server->check_.get());
  uv_idle_stop(server->idle_.get());
  auto ids = std::exchange(server->scheduled_, {});
  for (ClientId id : ids) {
    auto it = server->clients_.find(id);
    if (it == server->clients_.end()) continue;
    Client& client = *it->second;
    client.scheduled = false;
    if (!client.closed) server->handle_input(client);
  }
  server->reap_closed();
}

void Server::deliver(const std::vector<Delivery>& deliveries) {
  deliver_now(deliveries);
  reap_closed();
}

void Server::deliver_now(const std::vector<Delivery>& deliveries) {
  for (const Delivery& delivery : deliveries) {
    for (ClientId id : delivery.recipients) {
      auto it = clients_.find(id);
      if (it == clients_.end()) continue;
      Client& subscriber = *it->second;
      // Drop the message, not the subscriber: its connection, its other
      // subscriptions and its replies go on, it misses what it could not take.
      size_t pending = subscriber.pending_output();
      if (pending > 0 && pending + delivery.message.size() > limits_.max_subscriber_backlog_bytes) {
        note_dropped_message(subscriber);
        continue;
      }
      push_output(subscriber, delivery.message);
      flush(subscriber);
      account(subscriber);
    }
  }
}

void Server::account(Client& client) {
  if (client.closed) return;
  size_t now = client.footprint();
  memory_.update(MemoryAccount::Use::clients, client.accounted_bytes, now);
  client.accounted_bytes = now;
}

void Server::flush(Client& client) {
  if (client.closed) return;
  if (client.bytes_in_flight > 0) return;  // on_write sends the rest
  if (client.output.empty()) {
    // Deferred replies still owed go out first.
    if (client.close_after_write && client.slots.empty()) {
      close_client(client, log::Level::debug, client.peer_finished ? "peer closed the connection" : "closed after reply");
    }
    return;
  }
  // One write at a time: output produced meanwhile accumulates and goes out as
  // one batch when this one completes.
  auto request = std::make_unique<WriteRequest>();
  request->bytes.swap(client.output);
  request->request.data = request.get();
  uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  int rc = uv_write(&request->request, client.stream(), &buf, 1, on_write);
  if (rc != 0) {
    close_client(client, log::Level::warn, "write failed: " + uv_error_text(rc));
    return;
  }
  client.bytes_in_flight = request->bytes.size();
  client.in_flight_capacity = request->bytes.capacity();
  (void)request.release();  // reclaimed in on_write, which libuv always calls
}

void Server::on_write(uv_write_t* request, int status) {
  std::unique_ptr<WriteRequest> owned(static_cast<WriteRequest*>(request->data));
  auto* client = static_cast<Client*>(request->handle->data);
  if (client == nullptr) return;  // the client was closed; this write was cancelled
  Server& server = client->server;
  server.write_finished(*client, status);
  server.reap_closed();
}

void Server::write_finished(Client& client, int status) {
  client.bytes_in_flight = 0;
  client.in_flight_capacity = 0;
  if (status != 0) {
    // A peer that leaves without reading its replies is routine.
    bool peer_left = status == UV_EPIPE || status == UV_ECONNRESET;
    close_client(client, peer_left ? log::Level::debug : log::Level::warn, "write failed: " + uv_error_text(status));
    return;
  }
  // Below the threshold again: requests left waiting in `input` run now.
  handle_input(client);
}

void Server::update_reading(Client& client) {
  if (client.closed) return;
  bool wanted = !client.peer_finished && may_run_requests(client);
  if (wanted == client.reading) return;
  if (!wanted) {
    uv_read_stop(client.stream());
    client.reading = false;
    return;
  }
  int rc = uv_read_start(client.stream(), on_alloc, on_read);
  if (rc != 0) {
    close_client(client, log::Level::warn, "read failed: " + uv_error_text(rc));
    return;
  }
  client.reading = true;
}

void Server::note_out_of_memory(const Client& client, const std::string& command,
                                const std::string& over_quota_scope) {
  RefusalLog* log_state = &store_full_log_;
  if (!over_quota_scope.empty()) {
    auto it = scope_full_logs_.find(over_quota_scope);
    if (it == scope_full_logs_.end()) it = scope_full_logs_.emplace(over_quota_scope, RefusalLog{}).first;
    log_state = &it->second;
  }
  ++log_state->unlogged;
  uint64_t now = uv_now(loop_);
  if (log_state->last_ms && now - *log_state->last_ms < kOutOfMemoryLogIntervalMs) return;
  log_state->last_ms = now;
  log::Line line(log::Level::warn, over_quota_scope.empty() ? "store-memory-full" : "store-scope-full");
  // The scope whose quota refused the write (the writer's own, or, for an
  // unscoped writer, the one that owns the key).
  line.kv_nonempty("scope", over_quota_scope)
      .kv("client", client.id)
      .kv_nonempty("client_scope", client.scope)
      .kv("peer", client.peer)
      .kv("command", std::string_view(command).substr(0, 32))
      .kv("rejected", log_state->unlogged);
  log_state->unlogged = 0;
}

void Server::note_dropped_message(Client& subscriber) {
  ++subscriber.messages_dropped;
  ++dropped_messages_unlogged_;
  handler_.count_dropped_messages(1);
  uint64_t now = uv_now(loop_);
  if (last_drop_log_ms_ && now - *last_drop_log_ms_ < kDroppedMessageLogIntervalMs) return;
  last_drop_log_ms_ = now;
  log::warn("store-messages-dropped")
      .kv("client", subscriber.id)
      .kv("peer", subscriber.peer)
      .kv("reason", "subscriber not reading")
      .kv("client_dropped", subscriber.messages_dropped)
      .kv("dropped", dropped_messages_unlogged_);
  dropped_messages_unlogged_ = 0;
}

void Server::close_client(Client& client, log::Level level, std::string_view reason) {
  if (client.closed) return;
  client.closed = true;
  bool failed = level >= log::Level::warn;
  {
    log::Line line(level, failed ? "store-client-error" : "store-client-closed");
    line.kv("client", client.id).kv_nonempty("scope", client.scope).kv("peer", client.peer).kv(failed ? "error" : "reason", reason);
    if (client.messages_dropped > 0) line.kv("messages_dropped", client.messages_dropped);
  }
  handler_.client_disconnected(client.id);
  memory_.update(MemoryAccount::Use::clients, client.accounted_bytes, 0);
  client.accounted_bytes = 0;
  // Clears the handle's data first, so pending writes complete as cancelled
  // without reaching this Client.
  client.pipe.reset();
  auto it = clients_.find(client.id);
  if (it == clients_.end()) return;
  closed_.push_back(std::move(it->second));
  clients_.erase(it);
}

void Server::reap_closed() { closed_.clear(); }

}  // namespace store
