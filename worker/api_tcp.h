#pragma once
// The native side of `conn`: handed-off TCP sockets driven by libuv. JavaScript
// refers to a connection by a worker-local numeric id (native.tcpWrite(id, ...)),
// and the binding calls the host's tcp_* hooks with the JS socket object.

#include <jsapi.h>
#include <uv.h>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/one_shot_timer.h"
#include "common/unique_fd.h"
#include "ipc/messages.h"
#include "worker/tls_config.h"
#include "worker/tls_session.h"

namespace worker {

class Runtime;

class TcpBinding {
 public:
  explicit TcpBinding(Runtime& runtime);
  ~TcpBinding();
  TcpBinding(const TcpBinding&) = delete;
  TcpBinding& operator=(const TcpBinding&) = delete;

  static bool install(JSContext* cx, JS::HandleObject native);

  // A socket handed off by the supervisor: wraps it and calls the connection hook.
  void adopt(common::UniqueFd fd, const ipc::ConnectionHandoff& handoff);
  // An outbound socket the supervisor connected for handler code
  // (worker/api_connect.cc): the same connection type, announced to the
  // socket that asked for it instead of the connection hook. Returns its
  // id, or 0 if it cannot be wrapped (the descriptor is closed then).
  uint32_t open_outbound(common::UniqueFd fd);
  // Binds the JavaScript socket to an outbound connection; null closes it
  // (the socket was destroyed while it connected).
  void bind_socket(uint32_t id, JSObject* socket);
  size_t open_connections() const { return connections_.size(); }
  // tls.connect: TLS over an outbound connection (worker/tls_client.h). The
  // handshake runs here; the socket hears of its end through the
  // tls_client_settled hook, and of plaintext only after that. False with
  // `error` if it could not start (the connection is then closed, or was).
  bool start_client_tls(uint32_t id, std::unique_ptr<TlsSession> session, std::string& error);
  // Closes every connection (drain deadline, shutdown).
  void close_all();
  // TLS termination for the connections that follow (the handler's manifest
  // enables TLS); false with `error` if the material cannot be used.
  bool set_tls(const std::string& material_json, std::string& error);
  // On-demand TLS: the supervisor's answer ({"name", "cert"} or {"name",
  // "error"}); handshakes waiting for that name continue or fail.
  void on_certificate(const ipc::TlsCertificate& answer);

 private:
  struct Connection;
  struct WriteRequest;

  // Runs fn(self, connection, args) for the open connection args[0] names.
  template <typename Fn>
  static bool with_connection(JSContext* cx, unsigned argc, JS::Value* vp, JS::Value closed_result, Fn&& fn);

  Connection* find(uint32_t id);
  void close(Connection& connection);
  // Writes as much as the kernel takes now; queues the rest. Returns the bytes
  // still queued, or a negative libuv error.
  int64_t write(Connection& connection, std::span<const uint8_t> bytes);
  // The socket-level write: `for_handler` writes report back to JavaScript
  // when queued; TLS's own (handshake, alerts) do not.
  int64_t write_raw(Connection& connection, std::span<const uint8_t> bytes, bool for_handler);
  // Gives the handler its `conn` (after the TLS handshake, for TLS).
  void announce(Connection& connection, const nlohmann::json* tls_info);
  void deliver(Connection& connection, std::span<const uint8_t> bytes);
  void deliver_end(Connection& connection, ssize_t status);
  void on_tls_read(Connection& connection, ssize_t nread, const uv_buf_t* buf);
  // After the session consumed input (or resumed): send what it produced,
  // announce the connection when the handshake just completed, deliver plaintext.
  void after_tls_step(Connection& connection, bool was_handshaking, std::vector<uint8_t>& plaintext);
  void flush_tls(Connection& connection);
  void tls_failed(Connection& connection, const std::string& reason, const std::string& detail);
  void send_tls_alert(Connection& connection);
  // tls.connect's handshake ended: info (null if it failed) or why not.
  void settle_client_tls(Connection& connection, const nlohmann::json* info, const std::string& reason,
                         const std::string& detail);
  void count_tls(const std::string& failure);
  void report_write_length(size_t bytes);

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_shutdown(uv_shutdown_t* request, int status);
  static void on_close(uv_handle_t* handle);

  static bool native_write(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_shutdown(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_close(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_read_start(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_read_stop(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_utf8_strings(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_write_lengths(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_local_address(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_set_no_delay(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_set_keep_alive(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_error_name(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_error_message(JSContext* cx, unsigned argc, JS::Value* vp);
  // Sends the next queued on-demand request unless one awaits its answer.
  void ask_next_certificate();

  Runtime& runtime_;
  std::unordered_map<uint32_t, std::unique_ptr<Connection>> connections_;
  uint32_t next_id_ = 1;
  std::shared_ptr<TlsConfig> tls_;  // null: plaintext
  std::string tls_material_;        // what tls_ was built from
  // Handshakes since the last report to the supervisor.
  // On-demand names waiting to be asked for: the supervisor takes one
  // request at a time, so the rest wait here until the answer comes.
  std::deque<std::string> certificate_queue_;
  bool certificate_asked_ = false;
  uint64_t tls_handshakes_ = 0;
  std::map<std::string, uint64_t> tls_failures_;
  common::OneShotTimer tls_report_timer_;
  // One read buffer for all connections: each read is copied into its own
  // ArrayBuffer (or decoded into a string) before the next read can happen.
  std::array<char, 64 * 1024> read_buffer_;
  // A one-element Float64Array shared with socket.js: each tcpWrite leaves
  // the number of bytes it took there, so a string is measured while it is
  // encoded instead of in a separate Buffer.byteLength pass.
  JS::PersistentRootedObject write_lengths_;
};

}  // namespace worker
