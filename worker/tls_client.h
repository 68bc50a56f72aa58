#pragma once
// Client-side TLS for sockets the broker dialed for handler code
// (tls.connect, docs/egress.md). As Node does it: the peer's chain is
// verified against the host's CA bundle (or the handler's own `ca`), but the
// handshake completes either way and JavaScript decides from the result
// (rejectUnauthorized, checkServerIdentity). The host's bundle is read inside
// the worker's minimal root, where the sandbox binds it read-only
// (sandbox/mount_root.cc), the first time a handler asks for it.

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "worker/tls_session.h"

namespace worker {

struct TlsClientOptions {
  std::string servername;           // SNI; empty: none (Node sends none unless asked)
  std::vector<std::string> ca;      // PEM; empty: the host's bundle
  bool has_ca = false;              // `ca` given (even empty): it replaces the bundle, as in Node
  std::string cert;                 // PEM chain for a client certificate
  std::string key;                  // PEM private key for it
  std::vector<std::string> alpn;    // ALPNProtocols, in preference order
  int min_version = TLS1_2_VERSION;
  int max_version = 0;              // 0: the highest OpenSSL has

  // From tls.connect's options as socket.js sends them (JSON); false with
  // `error` naming the option.
  static bool parse(const std::string& json, TlsClientOptions& options, std::string& error);
};

class TlsClientContexts {
 public:
  TlsClientContexts() = default;
  ~TlsClientContexts();
  TlsClientContexts(const TlsClientContexts&) = delete;
  TlsClientContexts& operator=(const TlsClientContexts&) = delete;

  // A session ready to send its ClientHello; null with `error` if the options
  // cannot be used (a bad PEM, the bundle unreadable).
  std::unique_ptr<TlsSession> new_session(const TlsClientOptions& options, std::string& error);

 private:
  // The context for the host's bundle, built once and shared by every
  // connection that brings no `ca` of its own.
  SSL_CTX* bundle_context(std::string& error);

  SSL_CTX* bundle_ = nullptr;
};

// What tls.connect's socket reports once the handshake is done: protocol,
// cipher, ALPN, the chain's verification (Node's code and message), and the
// peer's certificate in getPeerCertificate()'s shape.
nlohmann::json client_session_info(SSL* ssl);

// Node's names for the chain's verification results (error.code, and
// socket.authorizationError): DEPTH_ZERO_SELF_SIGNED_CERT, ...
const char* tls_verify_code_name(long result);

// "AB:CD:...": a certificate's digest as Node prints fingerprint256.
std::string certificate_fingerprint(X509* cert, const EVP_MD* digest);

}  // namespace worker
