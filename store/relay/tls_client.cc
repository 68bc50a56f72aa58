#include "store/relay/tls_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/openssl_text.h"
#include "policy/ip_address.h"

namespace store::relay {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

Bio memory_bio(std::string_view text) { return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

}  // namespace

std::unique_ptr<TlsClientContext> TlsClientContext::create(std::string_view ca_pem, std::string_view cert_pem,
                                                           std::string_view key_pem, std::string& error) {
  std::unique_ptr<TlsClientContext> context(new TlsClientContext());
  context->ctx_.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = context->ctx_.get();
  if (ctx == nullptr || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    error = "cannot create a TLS context: " + common::openssl_error();
    return nullptr;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Writes may finish in parts (non-blocking socket), from a buffer that
  // moves as the output string grows.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  Bio ca = memory_bio(ca_pem);
  int trusted = 0;
  while (ca) {
    X509Ptr cert(PEM_read_bio_X509(ca.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (X509_STORE_add_cert(store, cert.get()) == 1) ++trusted;
  }
  ERR_clear_error();  // the end of the PEM text
  if (trusted == 0) {
    error = "the CA bundle holds no certificate";
    return nullptr;
  }
  if (!cert_pem.empty()) {
    Bio chain = memory_bio(cert_pem);
    X509Ptr leaf(chain ? PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr) : nullptr);
    bool ok = leaf && SSL_CTX_use_certificate(ctx, leaf.get()) == 1;
    while (ok) {
      X509Ptr extra(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
      if (!extra) break;
      ok = SSL_CTX_add1_chain_cert(ctx, extra.get()) == 1;
    }
    ERR_clear_error();
    Bio key_text = memory_bio(key_pem);
    std::unique_ptr<EVP_PKEY, KeyFree> key(key_text ? PEM_read_bio_PrivateKey(key_text.get(), nullptr, nullptr, nullptr)
                                                    : nullptr);
    if (!ok || !key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      error = "cannot use the client certificate and key: " + common::openssl_error();
      return nullptr;
    }
  }
  return context;
}

SslPtr TlsClientContext::connect_to(int fd, const std::string& name, std::string& error) const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
    error = "cannot create a TLS connection: " + common::openssl_error();
    return nullptr;
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  bool is_address = policy::IpAddress::parse(name).has_value();
  bool ok = is_address ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1
                       : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) == 1 &&
                             SSL_set_tlsext_host_name(ssl.get(), name.c_str()) == 1;
  if (!ok) {
    error = "cannot verify TLS peers as '" + name + "': " + common::openssl_error();
    return nullptr;
  }
  SSL_set_connect_state(ssl.get());
  return ssl;
}

}  // namespace store::relay
