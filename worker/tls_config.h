#pragma once
// A handler's TLS server configuration inside its worker: one OpenSSL
// context per certificate (chosen by SNI), the minimum version, ALPN and
// client certificate verification, built from what the supervisor sent
// (supervisor/tls_material.h). Replaced whole when certificates rotate;
// handshakes under way keep the configuration they started with.

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <memory>
#include <set>
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
  // On-demand: the name a paused handshake waits for a certificate for.
  static const std::string* awaiting(const SSL* ssl);

  // On-demand certificates: the worker's own key (its private half stays
  // here), and who to ask for a certificate for a name.
  bool on_demand() const { return on_demand_; }
  const std::string& public_key_pem() const { return public_key_pem_; }
  void set_requester(std::function<void(const std::string& name)> request) { request_ = std::move(request); }
  // A certificate the supervisor issued for `name`; false if unusable.
  bool add_certificate(const std::string& name, const std::string& chain_pem, std::string& error);
  // The supervisor refused `name`: handshakes for it fail from now on.
  void refuse_name(const std::string& name);
  // Not issued this time (too many at once, the CA unavailable).
  void retry_name(const std::string& name) { requested_.erase(name); }
  // On-demand: carries the key and the certificates issued so far over from
  // the configuration this one replaces (same handler, new settings).
  void inherit(const TlsConfig& previous);

 private:
  TlsConfig() = default;
  struct Certificate {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // lower case; "*.domain" matches one label
  };
  bool configure(SSL_CTX* ctx, std::string& error);
  static int on_client_hello(SSL* ssl, int* alert, void* arg);
  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                     unsigned int inlen, void* arg);

  std::vector<Certificate> certificates_;  // [0] is the default
  std::vector<unsigned char> alpn_wire_;   // length-prefixed, in preference order
  uint32_t handshake_timeout_ms_ = 10000;
  int min_version_ = TLS1_2_VERSION;
  std::string client_ca_pem_;
  bool client_cert_required_ = false;
  // On-demand.
  bool on_demand_ = false;
  std::vector<std::string> allowed_names_;
  EVP_PKEY* key_ = nullptr;
  std::string public_key_pem_;
  struct Issued {
    SSL_CTX* ctx = nullptr;
    int64_t not_after_s = 0;
  };
  std::map<std::string, Issued> issued_;  // by name
  std::deque<std::string> issue_order_;   // oldest first
  std::set<std::string> refused_;
  std::set<std::string> requested_;          // asked for, not answered yet
  std::function<void(const std::string& name)> request_;
};

}  // namespace worker
