#include "worker/api_tcp.h"

#include <sys/socket.h>

#include <js/ArrayBuffer.h>
#include <js/Conversions.h>
#include <js/experimental/TypedData.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "worker/js_util.h"
#include "worker/proxy_info.h"
#include "worker/runtime.h"
#include "worker/supervisor_link.h"
#include "worker/tls_client.h"
#include "worker/tls_session.h"

namespace worker {

struct TcpBinding::Connection {
  Connection(TcpBinding* owner, uint32_t connection_id, JSContext* cx)
      : binding(owner), id(connection_id), socket(cx) {}
  uv_tcp_t handle{};  // first member: handle pointers convert back to Connection
  TcpBinding* binding;  // null once the binding is gone and only the close callback remains
  uint32_t id;
  JS::PersistentRootedObject socket;
  bool closing = false;
  size_t queued_bytes = 0;
  // TLS: the session, the hand-off to announce once the handshake is done,
  // its deadline, and what arrived with the handshake's last flight, kept
  // until the handler starts reading.
  std::unique_ptr<TlsSession> tls;
  ipc::ConnectionHandoff handoff;
  common::OneShotTimer handshake_deadline;
  std::vector<uint8_t> early_plaintext;
  bool early_end = false;
  bool end_delivered = false;  // the handler saw the end (close_notify, then the FIN: once)
  // Both directions finished at the socket (the peer's FIN read, ours sent):
  // closing needs no shutdown of its own.
  bool peer_finished = false;
  bool we_finished = false;
  // setEncoding("utf8") with the JavaScript decoder holding nothing: reads
  // that end on a character boundary arrive as strings, decoded here.
  bool utf8_strings = false;
  common::OneShotTimer early_delivery;
};

struct TcpBinding::WriteRequest {
  uv_write_t request{};
  std::vector<uint8_t> bytes;
  bool for_handler = true;
};

namespace {

constexpr uint64_t kTlsReportDelayMs = 500;

TcpBinding* binding_of(uv_handle_t* handle) { return static_cast<TcpBinding*>(handle->data); }

}  // namespace

TcpBinding::TcpBinding(Runtime& runtime) : runtime_(runtime) {}

TcpBinding::~TcpBinding() {
  // Closing is asynchronous: hand each connection to its close callback, which
  // frees it without touching this binding.
  for (auto& [id, connection] : connections_) {
    Connection* raw = connection.release();
    raw->binding = nullptr;
    raw->socket.reset();
    // Their callbacks reach this binding: they must not outlive it.
    raw->handshake_deadline.cancel();
    raw->early_delivery.cancel();
    if (!raw->closing) {
      raw->closing = true;
      uv_os_fd_t fd;
      if (uv_fileno(reinterpret_cast<uv_handle_t*>(&raw->handle), &fd) == 0) ::shutdown(fd, SHUT_RDWR);
      uv_close(reinterpret_cast<uv_handle_t*>(&raw->handle), &TcpBinding::on_close);
    }
  }
  connections_.clear();
}

void TcpBinding::adopt(common::UniqueFd fd, const ipc::ConnectionHandoff& handoff) {
  JSContext* cx = runtime_.cx();
  uint32_t id = next_id_++;
  auto connection = std::make_unique<Connection>(this, id, cx);
  if (int rc = uv_tcp_init(runtime_.loop(), &connection->handle); rc != 0) {
    common::log::error("connection-adopt-failed").kv("conn", handoff.id).kv("error", uv_strerror(rc));
    return;
  }
  connection->handle.data = this;
  if (int rc = uv_tcp_open(&connection->handle, fd.get()); rc != 0) {
    common::log::error("connection-adopt-failed").kv("conn", handoff.id).kv("error", uv_strerror(rc));
    Connection* raw = connection.release();
    raw->binding = nullptr;
    raw->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->handle), &TcpBinding::on_close);
    return;
  }
  fd.release();  // libuv owns the descriptor now
  Connection& conn = *connection;
  conn.handoff = handoff;
  connections_.emplace(id, std::move(connection));
  if (tls_) {
    // The handler sees the connection only once the handshake succeeded.
    conn.tls = std::make_unique<TlsSession>(tls_);
    conn.handshake_deadline.start(runtime_.loop(), tls_->handshake_timeout_ms(), [this, id] {
      if (Connection* c = find(id)) tls_failed(*c, "handshake-timeout", "");
    });
    uv_read_start(reinterpret_cast<uv_stream_t*>(&conn.handle), &TcpBinding::on_alloc, &TcpBinding::on_read);
    return;
  }
  announce(conn, nullptr);
}

uint32_t TcpBinding::open_outbound(common::UniqueFd fd) {
  uint32_t id = next_id_++;
  auto connection = std::make_unique<Connection>(this, id, runtime_.cx());
  if (int rc = uv_tcp_init(runtime_.loop(), &connection->handle); rc != 0) {
    common::log::error("egress-adopt-failed").kv("error", uv_strerror(rc));
    return 0;
  }
  connection->handle.data = this;
  if (int rc = uv_tcp_open(&connection->handle, fd.get()); rc != 0) {
    common::log::error("egress-adopt-failed").kv("error", uv_strerror(rc));
    Connection* raw = connection.release();
    raw->binding = nullptr;
    raw->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->handle), &TcpBinding::on_close);
    return 0;
  }
  fd.release();  // libuv owns the descriptor now
  connections_.emplace(id, std::move(connection));
  return id;
}

void TcpBinding::bind_socket(uint32_t id, JSObject* socket) {
  Connection* connection = find(id);
  if (connection == nullptr) return;
  if (socket == nullptr) return close(*connection);
  connection->socket = socket;
}

void TcpBinding::announce(Connection& conn, const nlohmann::json* tls_info) {
  JSContext* cx = runtime_.cx();
  const ipc::ConnectionHandoff& handoff = conn.handoff;
  uint32_t id = conn.id;
  CallbackScope scope(runtime_);
  // Each string goes straight into the rooted array: the next allocation may
  // move or collect anything held in a raw pointer.
  JS::RootedValueArray<7> args(cx);
  args[0].setNumber(id);
  args[1].setNumber(static_cast<double>(handoff.id));
  args[3].setNumber(handoff.remote.port());
  std::string tls_text = tls_info ? tls_info->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "";
  std::string proxy_text = handoff.proxy ? proxy_info_json(*handoff.proxy) : "";
  const std::pair<int, std::string> strings[] = {{2, handoff.remote.ip()},
                                                 {4, std::string(handoff.remote.family_name())},
                                                 {5, tls_text},
                                                 {6, proxy_text}};
  for (const auto& [index, text] : strings) {
    if (index == 5 && tls_info == nullptr) continue;  // plaintext: conn.tls stays undefined
    if (index == 6 && !handoff.proxy) continue;       // a direct client: conn.proxy stays undefined
    JSString* value = new_string_from_utf8(cx, text);
    if (value == nullptr) {
      runtime_.report_pending_exception();
      close(conn);
      return;
    }
    args[static_cast<size_t>(index)].setString(value);
  }
  JS::RootedValue socket(cx);
  if (!runtime_.call_hook(Hook::connection, args, &socket) || !socket.isObject()) {
    close(conn);
    return;
  }
  conn.socket = &socket.toObject();
}

void TcpBinding::close_all() {
  std::vector<Connection*> open;
  for (auto& [id, connection] : connections_) open.push_back(connection.get());
  for (Connection* connection : open) close(*connection);
}

TcpBinding::Connection* TcpBinding::find(uint32_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void TcpBinding::close(Connection& connection) {
  if (connection.closing) return;
  connection.closing = true;
  // The supervisor holds its own reference to this socket (for caps and idle
  // timeouts), so closing our descriptor alone would send nothing: shut the
  // socket down for both sides first.
  uv_os_fd_t fd;
  bool finished = connection.peer_finished && connection.we_finished;
  if (!finished && uv_fileno(reinterpret_cast<uv_handle_t*>(&connection.handle), &fd) == 0) ::shutdown(fd, SHUT_RDWR);
  uv_close(reinterpret_cast<uv_handle_t*>(&connection.handle), &TcpBinding::on_close);
}

void TcpBinding::on_close(uv_handle_t* handle) {
  auto* connection = reinterpret_cast<Connection*>(handle);
  TcpBinding* self = connection->binding;
  if (self == nullptr) {
    delete connection;
    return;
  }
  auto owned = std::move(self->connections_[connection->id]);
  self->connections_.erase(connection->id);
  if (owned->socket) {
    JSContext* cx = self->runtime_.cx();
    CallbackScope scope(self->runtime_);
    JS::RootedValueArray<1> args(cx);
    args[0].setObject(*owned->socket);
    self->runtime_.call_hook(Hook::tcp_close, args);
  }
}

void TcpBinding::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  TcpBinding* self = binding_of(handle);
  *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
}

void TcpBinding::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;  // EAGAIN: nothing to report
  auto* connection = reinterpret_cast<Connection*>(stream);
  TcpBinding* self = connection->binding;
  if (self == nullptr || connection->closing) return;
  if (nread == UV_EOF) connection->peer_finished = true;
  if (connection->tls) return self->on_tls_read(*connection, nread, buf);
  if (nread > 0) {
    self->deliver(*connection, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf->base),
                                                        static_cast<size_t>(nread)));
  } else {
    self->deliver_end(*connection, nread);
  }
}

void TcpBinding::deliver(Connection& connection, std::span<const uint8_t> bytes) {
  if (!connection.socket || bytes.empty()) return;
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  JS::RootedValueArray<3> args(cx);
  args[0].setObject(*connection.socket);
  args[2].setNumber(static_cast<double>(bytes.size()));
  // Ending in ASCII means no character continues into the next read, so
  // decoding here gives what the JavaScript decoder would, without the
  // ArrayBuffer, Buffer and decoder in between. Otherwise the bytes go to
  // that decoder, which keeps the unfinished character and turns this back
  // on once it holds nothing.
  if (connection.utf8_strings && bytes.back() < 0x80) {
    JSString* text = new_string_from_bytes(cx, bytes, common::text::Encoding::utf8);
    if (text == nullptr) {
      runtime_.report_pending_exception();
      return;
    }
    args[1].setString(text);
  } else {
    connection.utf8_strings = false;
    JSObject* chunk = new_array_buffer_copy(cx, bytes);
    if (chunk == nullptr) {
      runtime_.report_pending_exception();
      return;
    }
    args[1].setObject(*chunk);
  }
  runtime_.call_hook(Hook::tcp_read, args);
}

// `status` is UV_EOF for the peer's end, or a negative libuv error.
void TcpBinding::deliver_end(Connection& connection, ssize_t status) {
  if (!connection.socket || connection.end_delivered) return;
  connection.end_delivered = true;
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  JS::RootedValueArray<2> args(cx);
  args[0].setObject(*connection.socket);
  if (status == UV_EOF) {
    args[1].setNull();
  } else {
    args[1].setNumber(static_cast<double>(status));
  }
  runtime_.call_hook(Hook::tcp_read, args);
}

void TcpBinding::on_tls_read(Connection& connection, ssize_t nread, const uv_buf_t* buf) {
  TlsSession& tls = *connection.tls;
  bool handshaking = tls.state() == TlsSession::State::handshaking;
  if (nread < 0) {
    if (handshaking) return tls_failed(connection, "closed-during-handshake", nread == UV_EOF ? "" : uv_strerror(static_cast<int>(nread)));
    // Behind what is still waiting for the handler's first read.
    if (connection.early_delivery.pending()) {
      connection.early_end = true;
      return;
    }
    return deliver_end(connection, nread);
  }
  std::vector<uint8_t> plaintext;
  tls.receive(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)),
              plaintext);
  after_tls_step(connection, handshaking, plaintext);
}

void TcpBinding::after_tls_step(Connection& connection, bool handshaking, std::vector<uint8_t>& plaintext) {
  TlsSession& tls = *connection.tls;
  auto state = tls.state();
  flush_tls(connection);
  if (connection.closing) return;  // the socket failed while sending
  if (state == TlsSession::State::failed) return tls_failed(connection, tls.failure(), tls.failure_detail());
  if (handshaking && state == TlsSession::State::established && tls.is_client()) {
    auto info = client_session_info(tls.ssl());
    settle_client_tls(connection, &info, "", "");
    if (connection.closing) return;
    // Whatever came with the server's last flight follows 'secureConnect'.
    deliver(connection, plaintext);
    if (tls.peer_closed() && !connection.closing) deliver_end(connection, UV_EOF);
    return;
  }
  if (handshaking && state == TlsSession::State::established) {
    connection.handshake_deadline.cancel();
    count_tls("");
    // From here the handler decides when to read, as for plaintext; what
    // came with the handshake waits for its first read.
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&connection.handle));
    connection.early_plaintext = std::move(plaintext);
    connection.early_end = tls.peer_closed();
    auto info = tls.info();
    announce(connection, &info);
    return;
  }
  if (connection.early_delivery.pending()) {
    // What came with the handshake is not delivered yet: this goes after it.
    connection.early_plaintext.insert(connection.early_plaintext.end(), plaintext.begin(), plaintext.end());
    connection.early_end = connection.early_end || tls.peer_closed();
    return;
  }
  deliver(connection, plaintext);
  if (tls.peer_closed() && !connection.closing) deliver_end(connection, UV_EOF);
}

void TcpBinding::flush_tls(Connection& connection) {
  auto output = connection.tls->take_output();
  if (!output.empty() && write_raw(connection, output, false) < 0) close(connection);
}

void TcpBinding::tls_failed(Connection& connection, const std::string& reason, const std::string& detail) {
  if (connection.closing) return;
  if (connection.tls && connection.tls->is_client()) {
    // Handler code's own connection: its socket gets the error, and the
    // server-side counts in status stay about the handler's port.
    send_tls_alert(connection);
    settle_client_tls(connection, nullptr, reason, detail);
    if (!connection.closing) close(connection);
    return;
  }
  common::log::info("tls-handshake-failed")
      .kv("peer", connection.handoff.remote.to_string())
      .kv("reason", reason)
      .kv("detail", detail);
  count_tls(reason);
  connection.handshake_deadline.cancel();
  if (connection.tls) send_tls_alert(connection);
  close(connection);
}

void TcpBinding::send_tls_alert(Connection& connection) {
  // The alert (if any) goes out before the socket is shut, without waiting.
  auto alert = connection.tls->take_output();
  if (alert.empty()) return;
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(alert.data()), static_cast<unsigned>(alert.size()));
  uv_try_write(reinterpret_cast<uv_stream_t*>(&connection.handle), &buf, 1);
}

void TcpBinding::settle_client_tls(Connection& connection, const nlohmann::json* info, const std::string& reason,
                                   const std::string& detail) {
  if (!connection.socket) return;
  JSContext* cx = runtime_.cx();
  CallbackScope scope(runtime_);
  JS::RootedValueArray<4> args(cx);
  args[0].setObject(*connection.socket);
  const std::string texts[] = {
      info ? info->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "", reason, detail};
  for (size_t i = 0; i < 3; ++i) {
    JSString* value = new_string_from_utf8(cx, texts[i]);
    if (value == nullptr) {
      runtime_.report_pending_exception();
      close(connection);
      return;
    }
    args[i + 1].setString(value);
  }
  runtime_.call_hook(Hook::tls_client_settled, args);
}

bool TcpBinding::start_client_tls(uint32_t id, std::unique_ptr<TlsSession> session, std::string& error) {
  Connection* connection = find(id);
  if (connection == nullptr || connection->closing || connection->tls) {
    error = "the connection is closed";
    return false;
  }
  connection->tls = std::move(session);
  // The socket is not bound to the connection yet (that follows this call):
  // a failure here is returned, not reported through the hook.
  if (connection->tls->start() == TlsSession::State::failed) {
    error = "TLS could not start: " + connection->tls->failure_detail();
    close(*connection);
    return false;
  }
  flush_tls(*connection);
  if (connection->closing) {
    error = "the connection is closed";
    return false;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&connection->handle), &TcpBinding::on_alloc, &TcpBinding::on_read);
  return true;
}

void TcpBinding::count_tls(const std::string& failure) {
  if (failure.empty()) {
    ++tls_handshakes_;
  } else {
    ++tls_failures_[failure];
  }
  if (tls_report_timer_.pending()) return;
  // Batched: one report per interval, whatever the handshake rate.
  tls_report_timer_.start(runtime_.loop(), kTlsReportDelayMs, [this] {
    ipc::TlsStats delta{tls_handshakes_, {}};
    for (const auto& [reason, count] : tls_failures_) {
      if (delta.failures.size() == ipc::kMaxReportEntries) break;
      delta.failures.push_back({reason.substr(0, ipc::kMaxTlsFailureReasonBytes), count});
    }
    tls_handshakes_ = 0;
    tls_failures_.clear();
    runtime_.link().send(ipc::encode(delta));
  });
}

bool TcpBinding::set_tls(const std::string& material_json, std::string& error) {
  if (material_json == tls_material_) return true;
  if (material_json.empty()) {
    // TLS switched off: connections from now on are plaintext.
    tls_.reset();
    tls_material_.clear();
    return true;
  }
  auto config = TlsConfig::create(material_json, error);
  if (!config) return false;
  if (tls_) config->inherit(*tls_);
  tls_material_ = material_json;
  if (config->on_demand()) {
    config->set_requester([this](const std::string& name) {
      certificate_queue_.push_back(name);
      ask_next_certificate();
    });
  }
  tls_ = std::move(config);
  return true;
}

void TcpBinding::ask_next_certificate() {
  if (certificate_asked_ || certificate_queue_.empty() || !tls_ || !tls_->on_demand()) return;
  std::string name = std::move(certificate_queue_.front());
  certificate_queue_.pop_front();
  certificate_asked_ = true;
  runtime_.link().send(ipc::encode(ipc::TlsCertificateRequest{name, tls_->public_key_pem()}));
}

void TcpBinding::on_certificate(const ipc::TlsCertificate& answer) {
  certificate_asked_ = false;
  ask_next_certificate();
  if (!tls_ || !tls_->on_demand()) return;
  const std::string& name = answer.name;
  std::string error = answer.error;
  if (error.empty() && !tls_->add_certificate(name, answer.cert_pem, error)) {
    common::log::error("tls-certificate-unusable").kv("name", name).kv("reason", error);
  }
  if (!error.empty()) {
    if (answer.permanent) {
      tls_->refuse_name(name);
    } else {
      tls_->retry_name(name);  // asked for again by the next handshake for it
    }
  }
  // Every handshake paused on this name goes on (or ends).
  std::vector<uint32_t> waiting;
  for (auto& [id, connection] : connections_) {
    const std::string* awaited = connection->tls ? connection->tls->awaiting_certificate() : nullptr;
    if (awaited != nullptr && *awaited == name && !connection->closing) waiting.push_back(id);
  }
  for (uint32_t id : waiting) {
    Connection* connection = find(id);
    if (connection == nullptr) continue;
    if (!error.empty()) {
      connection->tls->certificate_refused();
      tls_failed(*connection, "certificate-refused", error);
      continue;
    }
    std::vector<uint8_t> plaintext;
    connection->tls->resume(plaintext);
    after_tls_step(*connection, true, plaintext);
  }
}

int64_t TcpBinding::write(Connection& connection, std::span<const uint8_t> bytes) {
  if (!connection.tls) return write_raw(connection, bytes, true);
  if (!connection.tls->send(bytes)) return UV_EPIPE;
  auto ciphertext = connection.tls->take_output();
  return write_raw(connection, ciphertext, true);
}

int64_t TcpBinding::write_raw(Connection& connection, std::span<const uint8_t> bytes, bool for_handler) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&connection.handle);
  size_t written = 0;
  // Writing directly only when nothing is queued keeps the byte order.
  if (connection.queued_bytes == 0 && !bytes.empty()) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                               static_cast<unsigned>(bytes.size()));
    int rc = uv_try_write(stream, &buf, 1);
    if (rc >= 0) {
      written = static_cast<size_t>(rc);
    } else if (rc != UV_EAGAIN) {
      return rc;
    }
  }
  if (written == bytes.size()) return 0;
  auto request = std::make_unique<WriteRequest>();
  request->for_handler = for_handler;
  request->bytes.assign(bytes.begin() + static_cast<ptrdiff_t>(written), bytes.end());
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(request->bytes.data()), static_cast<unsigned>(request->bytes.size()));
  request->request.data = &connection;
  if (int rc = uv_write(&request->request, stream, &buf, 1, &TcpBinding::on_write); rc != 0) return rc;
  connection.queued_bytes += request->bytes.size();
  request.release();  // owned by libuv until on_write
  return static_cast<int64_t>(connection.queued_bytes);
}

void TcpBinding::on_write(uv_write_t* raw_request, int status) {
  std::unique_ptr<WriteRequest> request(reinterpret_cast<WriteRequest*>(raw_request));
  auto* connection = static_cast<Connection*>(raw_request->data);
  connection->queued_bytes -= request->bytes.size();
  TcpBinding* self = connection->binding;
  if (self == nullptr || !connection->socket || status == UV_ECANCELED) return;
  if (!request->for_handler) {
    // TLS's own bytes: JavaScript never counted them; a failure still ends the connection.
    if (status < 0) self->close(*connection);
    return;
  }
  JSContext* cx = self->runtime_.cx();
  CallbackScope scope(self->runtime_);
  JS::RootedValueArray<3> args(cx);
  args[0].setObject(*connection->socket);
  args[1].setNumber(static_cast<double>(request->bytes.size()));
  args[2].setInt32(status);
  self->runtime_.call_hook(Hook::tcp_write_done, args);
}

void TcpBinding::on_shutdown(uv_shutdown_t* raw_request, int status) {
  std::unique_ptr<uv_shutdown_t> request(raw_request);
  auto* connection = static_cast<Connection*>(raw_request->data);
  if (status == 0) connection->we_finished = true;
  TcpBinding* self = connection->binding;
  if (self == nullptr || !connection->socket || status == UV_ECANCELED) return;
  JSContext* cx = self->runtime_.cx();
  CallbackScope scope(self->runtime_);
  JS::RootedValueArray<2> args(cx);
  args[0].setObject(*connection->socket);
  args[1].setInt32(status);
  self->runtime_.call_hook(Hook::tcp_shutdown_done, args);
}

// tcpWrite(id, data, encoding) → bytes still queued (0: all written), or a
// negative error number.
bool TcpBinding::native_write(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isNumber()) return throw_type_error(cx, "connection id expected");
  TcpBinding& self = Runtime::from(cx).tcp();
  Connection* connection = self.find(static_cast<uint32_t>(args[0].toNumber()));
  if (connection == nullptr || connection->closing) {
    self.report_write_length(0);
    args.rval().setInt32(UV_EPIPE);
    return true;
  }
  int64_t result = 0;
  if (args.get(1).isString()) {
    auto encoding = common::text::Encoding::utf8;  // undefined: utf8, the common case, without parsing a name
    if (args.get(2).isString()) {
      auto parsed = common::text::parse_encoding(string_to_utf8(cx, args[2].toString()));
      if (!parsed) return throw_type_error(cx, "Unknown encoding");
      encoding = *parsed;
    }
    static thread_local std::vector<uint8_t> encoded;
    size_t encoded_size = 0;
    bool ok = with_string_chars(cx, args[1].toString(), [&](auto chars) {
      // One pass: UTF-8 takes at most 2 bytes per Latin-1 character and 3
      // per UTF-16 unit (a surrogate pair, 2 units, makes 4), so the buffer
      // is sized by that bound instead of a counting pass first.
      size_t bound = encoding == common::text::Encoding::utf8
                         ? chars.size() * (sizeof(chars[0]) == 1 ? 2 : 3)
                         : common::text::encoded_length(chars, encoding);
      if (encoded.size() < bound) encoded.resize(bound);
      encoded_size = common::text::encode(chars, encoding, std::span<uint8_t>(encoded.data(), bound));
    });
    if (!ok) return false;
    self.report_write_length(encoded_size);
    result = self.write(*connection, std::span<const uint8_t>(encoded.data(), encoded_size));
  } else if (args.get(1).isObject()) {
    bool is_bytes;
    {
      // No JavaScript runs during the write, so the bytes cannot move.
      JS::AutoCheckCannotGC nogc;
      std::span<uint8_t> bytes;
      is_bytes = get_bytes(&args[1].toObject(), bytes, nogc);
      if (is_bytes) {
        self.report_write_length(bytes.size());
        result = self.write(*connection, bytes);
      }
    }
    if (!is_bytes) return throw_type_error(cx, "tcpWrite: string or Uint8Array expected");
  } else {
    return throw_type_error(cx, "tcpWrite: string or Uint8Array expected");
  }
  args.rval().setNumber(static_cast<double>(result));
  return true;
}

// An id of a connection that is gone or closing gives `closed_result`.
template <typename Fn>
bool TcpBinding::with_connection(JSContext* cx, unsigned argc, JS::Value* vp, JS::Value closed_result, Fn&& fn) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isNumber()) return throw_type_error(cx, "connection id expected");
  TcpBinding& self = Runtime::from(cx).tcp();
  auto* connection = self.find(static_cast<uint32_t>(args[0].toNumber()));
  if (connection == nullptr || connection->closing) {
    args.rval().set(closed_result);
    return true;
  }
  fn(self, *connection, args);
  return true;
}

bool TcpBinding::native_shutdown(JSContext* cx, unsigned argc, JS::Value* vp) {
  return with_connection(cx, argc, vp, JS::Int32Value(UV_EBADF), [](TcpBinding& self, Connection& c, JS::CallArgs& args) {
    if (c.tls) {
      // close_notify first, then the socket's own FIN after it.
      c.tls->close_notify();
      self.flush_tls(c);
    }
    auto request = std::make_unique<uv_shutdown_t>();
    request->data = &c;
    int rc = uv_shutdown(request.get(), reinterpret_cast<uv_stream_t*>(&c.handle), &TcpBinding::on_shutdown);
    if (rc == 0) request.release();
    args.rval().setInt32(rc);
  });
}

bool TcpBinding::native_close(JSContext* cx, unsigned argc, JS::Value* vp) {
  return with_connection(cx, argc, vp, JS::UndefinedValue(), [](TcpBinding& self, Connection& c, JS::CallArgs& args) {
    self.close(c);
    args.rval().setUndefined();
  });
}

bool TcpBinding::native_read_start(JSContext* cx, unsigned argc, JS::Value* vp) {
  return with_connection(cx, argc, vp, JS::Int32Value(UV_EBADF), [](TcpBinding& self, Connection& c, JS::CallArgs& args) {
    if (!c.early_plaintext.empty() || c.early_end) {
      // Delivered from the loop, never from inside the handler's own call;
      // the timer phase runs before the next socket read, so order holds.
      uint32_t id = c.id;
      c.early_delivery.start(self.runtime_.loop(), 0, [&self, id] {
        Connection* connection = self.find(id);
        if (connection == nullptr) return;
        auto bytes = std::exchange(connection->early_plaintext, {});
        bool ended = std::exchange(connection->early_end, false);
        self.deliver(*connection, bytes);
        if (ended && self.find(id) != nullptr && !connection->closing) self.deliver_end(*connection, UV_EOF);
      });
    }
    int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&c.handle), &TcpBinding::on_alloc, &TcpBinding::on_read);
    args.rval().setInt32(rc == UV_EALREADY ? 0 : rc);
  });
}

void TcpBinding::report_write_length(size_t bytes) {
  if (!write_lengths_.initialized() || !write_lengths_) return;
  JS::AutoCheckCannotGC nogc;
  bool is_shared = false;
  if (JS_GetTypedArrayLength(write_lengths_) < 1) return;
  if (double* data = JS_GetFloat64ArrayData(write_lengths_, &is_shared, nogc)) data[0] = static_cast<double>(bytes);
}

// tcpWriteLengths(float64Array): see write_lengths_.
bool TcpBinding::native_write_lengths(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !JS_IsFloat64Array(&args[0].toObject())) {
    return throw_type_error(cx, "tcpWriteLengths: a Float64Array is required");
  }
  TcpBinding& self = Runtime::from(cx).tcp();
  if (self.write_lengths_.initialized()) {
    self.write_lengths_ = &args[0].toObject();
  } else {
    self.write_lengths_.init(cx, &args[0].toObject());
  }
  args.rval().setUndefined();
  return true;
}

// tcpUtf8Strings(id, on): see Connection::utf8_strings.
bool TcpBinding::native_utf8_strings(JSContext* cx, unsigned argc, JS::Value* vp) {
  return with_connection(cx, argc, vp, JS::UndefinedValue(), [](TcpBinding&, Connection& c, JS::CallArgs& args) {
    c.utf8_strings = JS::ToBoolean(args.get(1));
    args.rval().setUndefined();
  });
}

bool TcpBinding::native_read_stop(JSContext* cx, unsigned argc, JS::Value* vp) {
  return with_connection(cx, argc, vp, JS::UndefinedValue(), [](TcpBinding&, Connection& c, JS::CallArgs& args) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c.handle));
    args.rval().setUndefined();
  });
}

// tcpLocalAddress(id) → [address, port], or undefined once the socket is
// gone. Asked only when a handler reads it, as Node does: the supervisor does
// not spend a getsockname per connection on what most handlers never read.
bool TcpBinding::native_local_address(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  sockaddr_storage storage{};
  int length = sizeof storage;
  bool known = false;
  if (!with_connection(cx, argc, vp, JS::UndefinedValue(), [&](TcpBinding&, Connection& c, JS::CallArgs&) {
        known = uv_tcp_getsockname(&c.handle, reinterpret_cast<sockaddr*>(&storage), &length) == 0;
      })) {
    return false;
  }
  args.rval().setUndefined();
  if (!known) return true;
  auto local = common::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), static_cast<socklen_t>(length));
  if (!local.valid()) return true;
  JS::RootedValueArray<2> pair(cx);
  JSString* address = new_string_from_utf8(cx, local.ip());
  if (address == nullptr) return false;
  pair[0].setString(address);
  pair[1].setNumber(local.port());
  JSObject* array = JS::NewArrayObject(cx, pair);
  if (array == nullptr) return false;
  args.rval().setObject(*array);
  return true;
}

bool TcpBinding::native_set_no_delay(JSContext* cx, unsigned argc, JS::Value* vp) {
  return with_connection(cx, argc, vp, JS::Int32Value(UV_EBADF), [](TcpBinding&, Connection& c, JS::CallArgs& args) {
    args.rval().setInt32(uv_tcp_nodelay(&c.handle, JS::ToBoolean(args.get(1))));
  });
}

// tcpSetKeepAlive(id, enable, initialDelayMs)
bool TcpBinding::native_set_keep_alive(JSContext* cx, unsigned argc, JS::Value* vp) {
  return with_connection(cx, argc, vp, JS::Int32Value(UV_EBADF), [](TcpBinding&, Connection& c, JS::CallArgs& args) {
    double delay_ms = args.get(2).isNumber() ? args[2].toNumber() : 0;
    // The kernel counts in whole seconds, at least one.
    unsigned delay_s = std::isfinite(delay_ms) && delay_ms >= 1000 ? static_cast<unsigned>(delay_ms / 1000) : 1;
    args.rval().setInt32(uv_tcp_keepalive(&c.handle, JS::ToBoolean(args.get(1)), delay_s));
  });
}

// errorName(code) → "ECONNRESET"; errorMessage(code) → "connection reset by peer"
static bool error_text(JSContext* cx, unsigned argc, JS::Value* vp, const char* (*describe)(int)) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  int code = args.get(0).isNumber() ? static_cast<int>(args[0].toNumber()) : 0;
  JSString* text = JS_NewStringCopyZ(cx, describe(code));
  if (!text) return false;
  args.rval().setString(text);
  return true;
}

bool TcpBinding::native_error_name(JSContext* cx, unsigned argc, JS::Value* vp) {
  return error_text(cx, argc, vp, uv_err_name);
}

bool TcpBinding::native_error_message(JSContext* cx, unsigned argc, JS::Value* vp) {
  return error_text(cx, argc, vp, uv_strerror);
}

bool TcpBinding::install(JSContext* cx, JS::HandleObject native) {
  static const JSFunctionSpec functions[] = {
      JS_FN("tcpWrite", native_write, 3, 0),
      JS_FN("tcpShutdown", native_shutdown, 1, 0),
      JS_FN("tcpClose", native_close, 1, 0),
      JS_FN("tcpReadStart", native_read_start, 1, 0),
      JS_FN("tcpReadStop", native_read_stop, 1, 0),
      JS_FN("tcpUtf8Strings", native_utf8_strings, 2, 0),
      JS_FN("tcpWriteLengths", native_write_lengths, 1, 0),
      JS_FN("tcpLocalAddress", native_local_address, 1, 0),
      JS_FN("tcpSetNoDelay", native_set_no_delay, 2, 0),
      JS_FN("tcpSetKeepAlive", native_set_keep_alive, 3, 0),
      JS_FN("errorName", native_error_name, 1, 0),
      JS_FN("errorMessage", native_error_message, 1, 0),
      JS_FS_END,
  };
  return JS_DefineFunctions(cx, native, functions);
}

}  // namespace worker
