#include "worker/tls_config.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include <nlohmann/json.hpp>

#include "common/openssl_text.h"
#include "policy/tls_settings.h"

namespace worker {
namespace {

// On-demand certificates: renewed this long before they end, and at most
// this many kept (the oldest go first: a wildcard allows many names).
constexpr int64_t kRenewBeforeS = 7 * 24 * 3600;
constexpr size_t kMaxIssued = 1024;
constexpr size_t kMaxRefused = 1024;

// The refusal reason a callback sets on the SSL (ex_data index).
int refusal_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The name a paused on-demand handshake waits for (a std::string the SSL owns).
int awaiting_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(data);
      });
  return index;
}

// The host name in a ClientHello's server_name extension, or "" if none.
std::string client_hello_servername(SSL* ssl) {
  const unsigned char* ext = nullptr;
  size_t length = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &length) != 1 || length < 2) return "";
  size_t list = (size_t{ext[0]} << 8) | ext[1];
  if (list + 2 != length) return "";
  size_t at = 2;
  while (at + 3 <= length) {
    unsigned type = ext[at];
    size_t size = (size_t{ext[at + 1]} << 8) | ext[at + 2];
    at += 3;
    if (at + size > length) return "";
    if (type == TLSEXT_NAMETYPE_host_name) return std::string(reinterpret_cast<const char*>(ext + at), size);
    at += size;
  }
  return "";
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The first certificate in `pem` as the context's own, the rest as its chain.
bool use_certificate_chain(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* leaf = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  bool ok = ctx != nullptr && leaf != nullptr && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  while (ok) {
    X509* extra = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (extra == nullptr) break;
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      ok = false;
    }
  }
  ERR_clear_error();  // the end of the PEM stream
  BIO_free(bio);
  return ok;
}

}  // namespace

std::shared_ptr<TlsConfig> TlsConfig::create(const std::string& material_json, std::string& error) {
  auto material = nlohmann::json::parse(material_json, nullptr, false);
  if (!material.is_object() || !material["certs"].is_array() ||
      (material["certs"].empty() && !material.value("on_demand", false))) {
    error = "malformed TLS material";
    return nullptr;
  }
  std::shared_ptr<TlsConfig> config(new TlsConfig());
  config->handshake_timeout_ms_ = material.value("handshake_timeout_ms", 10000u);
  config->on_demand_ = material.value("on_demand", false);
  config->min_version_ = material.value("min_version", "1.2") == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  config->client_ca_pem_ = material.value("client_ca", "");
  config->client_cert_required_ = material.value("client_cert_required", false);
  for (const auto& protocol : material.value("alpn", nlohmann::json::array())) {
    std::string name = protocol.get<std::string>();
    config->alpn_wire_.push_back(static_cast<unsigned char>(name.size()));
    config->alpn_wire_.insert(config->alpn_wire_.end(), name.begin(), name.end());
  }
  if (config->on_demand_) {
    for (const auto& name : material.value("names", nlohmann::json::array())) {
      config->allowed_names_.push_back(lower(name.get<std::string>()));
    }
    // The handler's own key: certificates are issued over its public half.
    config->key_ = EVP_EC_gen("P-256");
    BIO* bio = BIO_new(BIO_s_mem());
    if (config->key_ == nullptr || bio == nullptr || PEM_write_bio_PUBKEY(bio, config->key_) != 1) {
      BIO_free(bio);
      error = "cannot create the key for on-demand certificates: " + common::openssl_error();
      return nullptr;
    }
    char* data = nullptr;
    long length = BIO_get_mem_data(bio, &data);
    config->public_key_pem_.assign(data, static_cast<size_t>(length));
    BIO_free(bio);
    // A context without a certificate: each handshake pauses in the
    // ClientHello until the certificate for its name is there.
    Certificate base;
    base.ctx = SSL_CTX_new(TLS_server_method());
    if (base.ctx == nullptr || !config->configure(base.ctx, error)) {
      SSL_CTX_free(base.ctx);
      if (error.empty()) error = "cannot create a TLS context: " + common::openssl_error();
      return nullptr;
    }
    SSL_CTX_set_client_hello_cb(base.ctx, &TlsConfig::on_client_hello, config.get());
    config->certificates_.push_back(base);
    return config;
  }
  for (const auto& pair : material["certs"]) {
    Certificate certificate;
    certificate.ctx = SSL_CTX_new(TLS_server_method());
    if (certificate.ctx == nullptr) {
      error = "cannot create a TLS context: " + common::openssl_error();
      return nullptr;
    }
    config->certificates_.push_back(certificate);  // owned from here, freed by the destructor
    std::string cert_pem = pair.value("cert", "");
    std::string key_pem = pair.value("key", "");
    bool ok = use_certificate_chain(certificate.ctx, cert_pem);
    BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* key = ok ? PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr) : nullptr;
    ok = key != nullptr && SSL_CTX_use_PrivateKey(certificate.ctx, key) == 1 && SSL_CTX_check_private_key(certificate.ctx) == 1;
    EVP_PKEY_free(key);
    BIO_free(key_bio);
    if (!ok) {
      error = "cannot use a certificate and key: " + common::openssl_error();
      return nullptr;
    }
    for (const auto& name : pair.value("names", nlohmann::json::array())) {
      config->certificates_.back().names.push_back(lower(name.get<std::string>()));
    }
    if (!config->configure(certificate.ctx, error)) return nullptr;
  }
  return config;
}

TlsConfig::~TlsConfig() {
  for (auto& certificate : certificates_) SSL_CTX_free(certificate.ctx);
  for (auto& [name, issued] : issued_) SSL_CTX_free(issued.ctx);
  EVP_PKEY_free(key_);
}

bool TlsConfig::add_certificate(const std::string& name, const std::string& chain_pem, std::string& error) {
  requested_.erase(name);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  bool ok = use_certificate_chain(ctx, chain_pem) && SSL_CTX_use_PrivateKey(ctx, key_) == 1 && SSL_CTX_check_private_key(ctx) == 1 && configure(ctx, error);
  if (!ok) {
    SSL_CTX_free(ctx);
    if (error.empty()) error = "the issued certificate for " + name + " is unusable: " + common::openssl_error();
    return false;
  }
  int64_t not_after = 0;
  if (X509* cert = SSL_CTX_get0_certificate(ctx)) common::asn1_time_iso(X509_get0_notAfter(cert), &not_after);
  if (auto old = issued_.find(name); old != issued_.end()) {
    SSL_CTX_free(old->second.ctx);
    old->second = {ctx, not_after};
    return true;
  }
  if (issued_.size() >= kMaxIssued) {
    auto oldest = issued_.find(issue_order_.front());
    issue_order_.pop_front();
    if (oldest != issued_.end()) {
      SSL_CTX_free(oldest->second.ctx);
      issued_.erase(oldest);
    }
  }
  issued_[name] = {ctx, not_after};
  issue_order_.push_back(name);
  return true;
}

void TlsConfig::refuse_name(const std::string& name) {
  requested_.erase(name);
  if (refused_.size() < kMaxRefused) refused_.insert(name);
}

void TlsConfig::inherit(const TlsConfig& previous) {
  if (!on_demand_ || !previous.on_demand_ || previous.key_ == nullptr) return;
  // The same key: certificates asked for under the old settings still fit.
  // (Contexts are not carried over: they hold the old settings.)
  EVP_PKEY_up_ref(previous.key_);
  EVP_PKEY_free(key_);
  key_ = previous.key_;
  public_key_pem_ = previous.public_key_pem_;
  requested_ = previous.requested_;
}

const std::string* TlsConfig::awaiting(const SSL* ssl) {
  return static_cast<const std::string*>(SSL_get_ex_data(ssl, awaiting_index()));
}

int TlsConfig::on_client_hello(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<TlsConfig*>(arg);
  std::string name = lower(client_hello_servername(ssl));
  // Only host names the manifest lists, and none the supervisor refused.
  if (!policy::tls_name_allowed(self->allowed_names_, name) || self->refused_.count(name)) {
    // Names outside the manifest's list never mint a certificate.
    SSL_set_ex_data(ssl, refusal_index(), const_cast<char*>("unknown-sni"));
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (auto issued = self->issued_.find(name); issued != self->issued_.end()) {
    delete static_cast<std::string*>(SSL_get_ex_data(ssl, awaiting_index()));
    SSL_set_ex_data(ssl, awaiting_index(), nullptr);
    SSL_set_SSL_CTX(ssl, issued->second.ctx);
    // Near its end: a fresh one is asked for while this one still serves.
    if (time(nullptr) > issued->second.not_after_s - kRenewBeforeS && self->requested_.insert(name).second &&
        self->request_) {
      self->request_(name);
    }
    return SSL_CLIENT_HELLO_SUCCESS;
  }
  // Pause this handshake until the supervisor answers.
  if (awaiting(ssl) == nullptr) SSL_set_ex_data(ssl, awaiting_index(), new std::string(name));
  if (self->requested_.insert(name).second && self->request_) self->request_(name);
  return SSL_CLIENT_HELLO_RETRY;
}

bool TlsConfig::configure(SSL_CTX* ctx, std::string& error) {
  SSL_CTX_set_min_proto_version(ctx, min_version_);
  // No session tickets: a worker's keys live as long as the worker, and
  // resumption across workers could not work anyway.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (!on_demand_) {
    // Certificates from files are chosen by SNI here; on-demand ones in the
    // ClientHello callback, which can wait for the supervisor.
    SSL_CTX_set_tlsext_servername_callback(ctx, &TlsConfig::on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx, this);
  }
  if (!alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, &TlsConfig::on_alpn, this);
  if (!client_ca_pem_.empty()) {
    BIO* bio = BIO_new_mem_buf(client_ca_pem_.data(), static_cast<int>(client_ca_pem_.size()));
    STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    for (int i = 0; infos != nullptr && i < sk_X509_INFO_num(infos); ++i) {
      X509_INFO* info = sk_X509_INFO_value(infos, i);
      if (info->x509 != nullptr && X509_STORE_add_cert(store, info->x509) == 1) ++added;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    ERR_clear_error();
    if (added == 0) {
      error = "no usable certificate in the client CA bundle";
      return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (client_cert_required_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
  }
  return true;
}

SSL* TlsConfig::new_ssl() const { return SSL_new(certificates_.front().ctx); }

const char* TlsConfig::refusal(const SSL* ssl) {
  return static_cast<const char*>(SSL_get_ex_data(ssl, refusal_index()));
}

int TlsConfig::on_servername(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<TlsConfig*>(arg);
  const char* requested = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (requested == nullptr) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  std::string name = lower(requested);
  for (const auto& certificate : self->certificates_) {
    if (!policy::tls_name_allowed(certificate.names, name)) continue;
    if (certificate.ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, certificate.ctx);
    return SSL_TLSEXT_ERR_OK;
  }
  // A name none of the certificates is for: refused rather than answered
  // with a certificate the client would reject anyway.
  SSL_set_ex_data(ssl, refusal_index(), const_cast<char*>("unknown-sni"));
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int TlsConfig::on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                       unsigned int inlen, void* arg) {
  auto* self = static_cast<TlsConfig*>(arg);
  unsigned char* selected = nullptr;
  // The server's order of preference decides.
  if (SSL_select_next_proto(&selected, outlen, self->alpn_wire_.data(), static_cast<unsigned>(self->alpn_wire_.size()),
                            in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    SSL_set_ex_data(ssl, refusal_index(), const_cast<char*>("alpn-mismatch"));
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace worker
