#pragma once
// One TLS connection over memory buffers, server side (a handler's TLS
// port) or client side (tls.connect, worker/tls_client.h): ciphertext from the
// socket goes in, plaintext comes out for the handler, and whatever TLS has
// to send (handshake, alerts, records) waits in output() for the socket.
// No I/O of its own, so the TCP binding keeps driving the socket as for
// plaintext.

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "worker/tls_config.h"

namespace worker {

class TlsSession {
 public:
  enum class State { handshaking, established, failed };

  explicit TlsSession(std::shared_ptr<const TlsConfig> config);
  // Client side over `ssl` (owned from here), set up by worker/tls_client.h.
  static std::unique_ptr<TlsSession> client(SSL* ssl);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext from the peer; appends what it decrypts to `plaintext`.
  State receive(std::span<const uint8_t> ciphertext, std::vector<uint8_t>& plaintext);
  // On-demand: the certificate the handshake waited for is there (or was
  // refused); continue from where it paused.
  State resume(std::vector<uint8_t>& plaintext);
  void certificate_refused() { fail("certificate-refused"); }
  // The name whose certificate a paused handshake waits for, or null.
  const std::string* awaiting_certificate() const;
  // Encrypts handler data; false if the session cannot send.
  bool send(std::span<const uint8_t> plaintext);
  // Our close_notify, before the socket's own shutdown.
  void close_notify();
  // Bytes to write to the socket now (moved out).
  std::vector<uint8_t> take_output();

  // Client side: sends the ClientHello (in take_output()).
  State start();

  State state() const { return state_; }
  bool is_client() const { return client_; }
  SSL* ssl() const { return ssl_; }
  bool peer_closed() const { return peer_closed_; }  // the peer sent close_notify
  // Why the handshake failed, for the count by reason: plaintext,
  // protocol-version, unknown-sni, alpn-mismatch, no-client-certificate,
  // bad-client-certificate, handshake-failed.
  const std::string& failure() const { return failure_; }
  const std::string& failure_detail() const { return failure_detail_; }
  // conn.tls: protocol, cipher, servername, alpnProtocol, peerCertificate.
  nlohmann::json info() const;

 private:
  TlsSession() = default;
  void attach(SSL* ssl);
  void fail(const std::string& reason);
  State advance(std::vector<uint8_t>& plaintext);

  std::shared_ptr<const TlsConfig> config_;  // kept: SNI may point the SSL at any of its contexts
  SSL* ssl_ = nullptr;
  BIO* incoming_ = nullptr;  // owned by ssl_
  BIO* outgoing_ = nullptr;  // owned by ssl_
  State state_ = State::handshaking;
  bool client_ = false;
  bool first_bytes_seen_ = false;
  bool peer_closed_ = false;
  std::string failure_;
  std::string failure_detail_;
};

}  // namespace worker
