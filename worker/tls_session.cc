#include "worker/tls_session.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "worker/tls_client.h"

namespace worker {
namespace {

// A TLS connection starts with a handshake record (content type 22).
constexpr uint8_t kHandshakeRecord = 0x16;

std::string one_line_name(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(length));
  BIO_free(bio);
  return text;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<const TlsConfig> config) : config_(std::move(config)) {
  attach(config_->new_ssl());
  if (ssl_ != nullptr) SSL_set_accept_state(ssl_);
}

std::unique_ptr<TlsSession> TlsSession::client(SSL* ssl) {
  std::unique_ptr<TlsSession> session(new TlsSession());
  session->client_ = true;
  // The client speaks first: no check of the peer's first byte.
  session->first_bytes_seen_ = true;
  session->attach(ssl);
  if (session->ssl_ != nullptr) SSL_set_connect_state(session->ssl_);
  return session;
}

TlsSession::State TlsSession::start() {
  std::vector<uint8_t> none;
  return advance(none);
}

void TlsSession::attach(SSL* ssl) {
  ssl_ = ssl;
  incoming_ = BIO_new(BIO_s_mem());
  outgoing_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || incoming_ == nullptr || outgoing_ == nullptr) {
    BIO_free(incoming_);
    BIO_free(outgoing_);
    incoming_ = outgoing_ = nullptr;
    fail("handshake-failed");
    return;
  }
  // A read of an empty memory buffer is "retry", not end of stream.
  BIO_set_mem_eof_return(incoming_, -1);
  SSL_set_bio(ssl_, incoming_, outgoing_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::fail(const std::string& reason) {
  state_ = State::failed;
  failure_ = reason;
  unsigned long code = ERR_peek_last_error();
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    failure_detail_ = text;
  }
  ERR_clear_error();
}

TlsSession::State TlsSession::receive(std::span<const uint8_t> ciphertext, std::vector<uint8_t>& plaintext) {
  if (state_ == State::failed || ciphertext.empty()) return state_;
  if (!first_bytes_seen_) {
    first_bytes_seen_ = true;
    // A plaintext client (an HTTP request, a line of text) on a TLS port.
    if (ciphertext[0] != kHandshakeRecord) {
      fail("plaintext");
      return state_;
    }
  }
  BIO_write(incoming_, ciphertext.data(), static_cast<int>(ciphertext.size()));
  return advance(plaintext);
}

TlsSession::State TlsSession::resume(std::vector<uint8_t>& plaintext) {
  if (state_ != State::handshaking) return state_;
  return advance(plaintext);
}

const std::string* TlsSession::awaiting_certificate() const {
  return state_ == State::handshaking && ssl_ != nullptr ? TlsConfig::awaiting(ssl_) : nullptr;
}

TlsSession::State TlsSession::advance(std::vector<uint8_t>& plaintext) {
  if (state_ == State::handshaking) {
    int result = SSL_do_handshake(ssl_);
    if (result != 1) {
      int error = SSL_get_error(ssl_, result);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_CLIENT_HELLO_CB) {
        return state_;
      }
      const char* refused = TlsConfig::refusal(ssl_);
      int reason = ERR_GET_REASON(ERR_peek_last_error());
      if (refused != nullptr) {
        fail(refused);
      } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_WRONG_VERSION_NUMBER ||
                 reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_VERSION_TOO_LOW) {
        fail("protocol-version");
      } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        fail("no-client-certificate");
      } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        fail("bad-client-certificate");
      } else if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
        fail("plaintext");
      } else {
        fail("handshake-failed");
      }
      return state_;
    }
    state_ = State::established;
  }
  // Records that came with (or after) the end of the handshake.
  uint8_t buffer[16384];
  for (;;) {
    int n = SSL_read(ssl_, buffer, sizeof buffer);
    if (n > 0) {
      plaintext.insert(plaintext.end(), buffer, buffer + n);
      continue;
    }
    int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
    } else if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      fail("protocol-error");
    }
    break;
  }
  ERR_clear_error();
  return state_;
}

bool TlsSession::send(std::span<const uint8_t> plaintext) {
  if (state_ != State::established) return false;
  if (plaintext.empty()) return true;
  int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(plaintext.size()));
  ERR_clear_error();
  // Memory buffers take everything at once.
  return n == static_cast<int>(plaintext.size());
}

void TlsSession::close_notify() {
  if (state_ == State::established) SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::vector<uint8_t> TlsSession::take_output() {
  std::vector<uint8_t> out;
  if (outgoing_ == nullptr) return out;
  char* data = nullptr;
  long length = BIO_get_mem_data(outgoing_, &data);
  if (length > 0) out.assign(data, data + length);
  (void)BIO_reset(outgoing_);
  return out;
}

nlohmann::json TlsSession::info() const {
  const char* servername = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  nlohmann::json peer = nullptr;
  if (X509* cert = SSL_get1_peer_certificate(ssl_)) {
    peer = {{"subject", one_line_name(X509_get_subject_name(cert))},
            {"issuer", one_line_name(X509_get_issuer_name(cert))},
            {"fingerprint256", certificate_fingerprint(cert, EVP_sha256())}};
    X509_free(cert);
  }
  return {
      {"protocol", SSL_get_version(ssl_)},
      {"cipher", SSL_get_cipher_name(ssl_)},
      {"servername", servername ? nlohmann::json(servername) : nlohmann::json(nullptr)},
      {"alpnProtocol", alpn_length > 0 ? nlohmann::json(std::string(reinterpret_cast<const char*>(alpn), alpn_length))
                                       : nlohmann::json(nullptr)},
      {"authorized", peer.is_null() ? false : SSL_get_verify_result(ssl_) == X509_V_OK},
      {"peerCertificate", peer},
  };
}

}  // namespace worker
