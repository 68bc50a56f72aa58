#pragma once
// TLS towards the backend (rediss://): one client context built from PEM
// texts the supervisor read and checked (the relay opens no files), and one
// SSL object per connection. Peers are always verified: the CA bundle, and
// the name or address the relay connected to (or the configured
// server_name).

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

namespace store::relay {

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

class TlsClientContext {
 public:
  // `ca_pem`: the certificates to trust; `cert_pem` and `key_pem`: a client
  // certificate (its chain) and key, or both empty. Null, with `error`, if
  // any of them does not parse.
  static std::unique_ptr<TlsClientContext> create(std::string_view ca_pem, std::string_view cert_pem,
                                                  std::string_view key_pem, std::string& error);

  // An SSL object for a connection to a node known as `name` (a host name,
  // which also goes out as SNI, or an IP literal), on `fd`.
  SslPtr connect_to(int fd, const std::string& name, std::string& error) const;

 private:
  struct CtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  };
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
};

}  // namespace store::relay
