#pragma once
// One connection from the relay to a backend node (Redis, Valkey or a
// Sentinel), on a socket the supervisor connected and passed in: TLS when
// configured, RESP2 commands pipelined, replies matched to them in order.
//
// Every wait is bounded: a reply (and the TLS handshake) must come within
// the timeout, and an idle connection sends a PING every half timeout, so a
// node that vanishes without a word (a cable pulled, a paused VM) is noticed
// within about 1.5 timeouts. On any failure the connection closes, its
// owner hears why first, then every command still waiting is told it failed.
//
// The owner must not destroy an Upstream from inside one of its callbacks
// (store/relay/backend.cc retires them after the callback).

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/resp.h"
#include "store/relay/tls_client.h"

namespace store::relay {

class Upstream {
 public:
  // One call per reply frame: the reply and its bytes as they came, or
  // (nullptr, "") when the connection failed first.
  using ReplyCallback = std::function<void(const ipc::resp::Value* reply, std::string_view raw)>;
  using PushCallback = std::function<void(const ipc::resp::Value& message)>;
  using ClosedCallback = std::function<void(const std::string& error)>;

  // Replies larger than this break the connection (it cannot skip them):
  // values written through the relay are at most 8 MiB.
  static constexpr size_t kMaxReplyBulkBytes = 64 * 1024 * 1024;

  Upstream(uv_loop_t* loop, std::string label, uint32_t timeout_ms, ClosedCallback on_closed);
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;
  ~Upstream();

  // Takes the connected socket; with `tls`, handshakes first (commands sent
  // meanwhile wait), verifying the peer as `peer_name`.
  bool start(common::UniqueFd fd, const TlsClientContext* tls, const std::string& peer_name, std::string& error);
  // Queues a command (RESP-encoded) expecting `frames` reply frames
  // (SUBSCRIBE a b: two), each passed to `done` (which may be empty).
  void send(std::string_view command, ReplyCallback done, size_t frames = 1);
  // From now on "message" frames go to `on_push` (a subscriber connection).
  void set_push_handler(PushCallback on_push) { on_push_ = std::move(on_push); }
  // Closes without calling on_closed; waiting commands are failed.
  void close();

  bool is_open() const { return open_; }
  // Bytes of commands not yet answered (queued or sent).
  size_t backlog_bytes() const { return backlog_bytes_; }
  size_t pending() const { return pending_.size(); }
  const std::string& label() const { return label_; }

 private:
  struct Pending {
    ReplyCallback done;
    size_t frames = 1;
    size_t bytes = 0;
    uint64_t sent_ms = 0;
  };

  void on_poll(int status, int events);
  void on_tick();
  void handshake();
  void read_available();
  void write_available();
  void parse_input();
  void update_poll();
  // Closes, tells the owner, then fails what waits. Callers return at once.
  void fail(const std::string& error);
  void fail_pending();
  // Stops the I/O and closes the socket.
  void shut();

  uv_loop_t* loop_;
  std::string label_;
  uint32_t timeout_ms_;
  ClosedCallback on_closed_;
  PushCallback on_push_;
  common::UniqueFd fd_;
  SslPtr ssl_;
  common::UvHandle<uv_poll_t> poll_;
  common::UvHandle<uv_timer_t> tick_;
  // Commands are written once the current callback is over (one write for
  // a burst); the idle handle keeps the loop from blocking before then.
  common::UvHandle<uv_check_t> flush_check_;
  common::UvHandle<uv_idle_t> flush_idle_;
  bool flush_scheduled_ = false;
  std::string input_;
  std::string output_;
  size_t output_sent_ = 0;  // the front of output_ already written
  std::deque<Pending> pending_;
  size_t backlog_bytes_ = 0;
  ipc::resp::Limits limits_;
  uint64_t started_ms_ = 0;
  uint64_t last_read_ms_ = 0;
  int poll_events_ = 0;
  bool open_ = false;
  bool handshaking_ = false;
  bool handshake_wants_write_ = false;
  bool write_wants_read_ = false;  // TLS: a write waits for the socket to be readable
  bool read_wants_write_ = false;  // TLS: a read waits for it to be writable
};

}  // namespace store::relay
