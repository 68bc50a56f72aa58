#include "worker/tls_config.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace worker {
namespace {

// The refusal reason a callback sets on the SSL (ex_data index).
int refusal_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool name_matches(const std::string& pattern, const std::string& name) {
  if (!pattern.starts_with("*.")) return pattern == name;
  std::string domain = pattern.substr(1);
  if (name.size() <= domain.size() || !name.ends_with(domain)) return false;
  return name.find('.') == name.size() - domain.size();
}

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

std::shared_ptr<TlsConfig> TlsConfig::create(const std::string& material_json, std::string& error) {
  auto material = nlohmann::json::parse(material_json, nullptr, false);
  if (!material.is_object() || !material["certs"].is_array() || material["certs"].empty()) {
    error = "malformed TLS material";
    return nullptr;
  }
  std::shared_ptr<TlsConfig> config(new TlsConfig());
  config->handshake_timeout_ms_ = material.value("handshake_timeout_ms", 10000u);
  for (const auto& protocol : material.value("alpn", nlohmann::json::array())) {
    std::string name = protocol.get<std::string>();
    config->alpn_wire_.push_back(static_cast<unsigned char>(name.size()));
    config->alpn_wire_.insert(config->alpn_wire_.end(), name.begin(), name.end());
  }
  int min_version = material.value("min_version", "1.2") == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  std::string client_ca = material.value("client_ca", "");
  bool client_required = material.value("client_cert_required", false);
  for (const auto& pair : material["certs"]) {
    Certificate certificate;
    certificate.ctx = SSL_CTX_new(TLS_server_method());
    if (certificate.ctx == nullptr) {
      error = "cannot create a TLS context: " + openssl_error();
      return nullptr;
    }
    config->certificates_.push_back(certificate);  // owned from here, freed by the destructor
    std::string cert_pem = pair.value("cert", "");
    std::string key_pem = pair.value("key", "");
    BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    X509* leaf = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    bool ok = leaf != nullptr && SSL_CTX_use_certificate(certificate.ctx, leaf) == 1;
    X509_free(leaf);
    // The rest of the file is the chain.
    while (ok) {
      X509* extra = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
      if (extra == nullptr) break;
      if (SSL_CTX_add0_chain_cert(certificate.ctx, extra) != 1) {
        X509_free(extra);
        ok = false;
      }
    }
    ERR_clear_error();  // the end of the PEM stream
    BIO_free(cert_bio);
    BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* key = ok ? PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr) : nullptr;
    ok = key != nullptr && SSL_CTX_use_PrivateKey(certificate.ctx, key) == 1 && SSL_CTX_check_private_key(certificate.ctx) == 1;
    EVP_PKEY_free(key);
    BIO_free(key_bio);
    if (!ok) {
      error = "cannot use a certificate and key: " + openssl_error();
      return nullptr;
    }
    for (const auto& name : pair.value("names", nlohmann::json::array())) {
      config->certificates_.back().names.push_back(lower(name.get<std::string>()));
    }
    if (!config->configure(certificate.ctx, client_ca, client_required, min_version, error)) return nullptr;
  }
  return config;
}

TlsConfig::~TlsConfig() {
  for (auto& certificate : certificates_) SSL_CTX_free(certificate.ctx);
}

bool TlsConfig::configure(SSL_CTX* ctx, const std::string& client_ca_pem, bool client_cert_required, int min_version,
                          std::string& error) {
  SSL_CTX_set_min_proto_version(ctx, min_version);
  // No session tickets: a worker's keys live as long as the worker, and
  // resumption across workers could not work anyway.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_tlsext_servername_callback(ctx, &TlsConfig::on_servername);
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
  if (!alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, &TlsConfig::on_alpn, this);
  if (!client_ca_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(client_ca_pem.data(), static_cast<int>(client_ca_pem.size()));
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
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (client_cert_required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
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
    bool matches = std::any_of(certificate.names.begin(), certificate.names.end(),
                               [&](const std::string& pattern) { return name_matches(pattern, name); });
    if (!matches) continue;
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
