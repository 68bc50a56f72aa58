#pragma once
// A handler's TLS server configuration inside its worker: one OpenSSL
// context per certificate (chosen by SNI), the minimum version, ALPN and
// client certificate verification, built from what the supervisor sent
// (supervisor/tls_material.h). Replaced whole when certificates rotate;
// handshakes under way keep the configuration they started with.

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace worker {

class TlsConfig {
 public:
  // Null (with `error`) if the material cannot be used.
  static std::shared_ptr<TlsConfig> create(const std::string& material_json, std::string& error);
  ~TlsConfig();
  TlsConfig(const TlsConfig&) = delete;
  TlsConfig& operator=(const TlsConfig&) = delete;

  // A server-side session on the default certificate; SNI may switch it.
  SSL* new_ssl() const;
  uint32_t handshake_timeout_ms() const { return handshake_timeout_ms_; }

  // Why a handshake callback refused, kept on the SSL for the failure count.
  static const char* refusal(const SSL* ssl);

 private:
  TlsConfig() = default;
  struct Certificate {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // lower case; "*.domain" matches one label
  };
  bool configure(SSL_CTX* ctx, const std::string& client_ca_pem, bool client_cert_required, int min_version,
                 std::string& error);
  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                     unsigned int inlen, void* arg);

  std::vector<Certificate> certificates_;  // [0] is the default
  std::vector<unsigned char> alpn_wire_;   // length-prefixed, in preference order
  uint32_t handshake_timeout_ms_ = 10000;
};

}  // namespace worker
