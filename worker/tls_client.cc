#include "worker/tls_client.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/openssl_ptr.h"
#include "common/openssl_text.h"
#include "sandbox/mount_root.h"


namespace worker {
namespace {

using Bio = common::BioPtr;
using common::KeyPtr;
using common::X509Ptr;
using SslPtr = common::SslPtr;
using CtxPtr = common::SslCtxPtr;

std::string openssl_error(const std::string& what) { return what + ": " + common::openssl_error(); }

}  // namespace

const char* tls_verify_code_name(long result) {
  switch (result) {
#define NAME(code) \
  case X509_V_ERR_##code: return #code
    NAME(UNABLE_TO_GET_ISSUER_CERT);
    NAME(UNABLE_TO_GET_CRL);
    NAME(UNABLE_TO_DECRYPT_CERT_SIGNATURE);
    NAME(UNABLE_TO_DECRYPT_CRL_SIGNATURE);
    NAME(UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY);
    NAME(CERT_SIGNATURE_FAILURE);
    NAME(CRL_SIGNATURE_FAILURE);
    NAME(CERT_NOT_YET_VALID);
    NAME(CERT_HAS_EXPIRED);
    NAME(CRL_NOT_YET_VALID);
    NAME(CRL_HAS_EXPIRED);
    NAME(ERROR_IN_CERT_NOT_BEFORE_FIELD);
    NAME(ERROR_IN_CERT_NOT_AFTER_FIELD);
    NAME(ERROR_IN_CRL_LAST_UPDATE_FIELD);
    NAME(ERROR_IN_CRL_NEXT_UPDATE_FIELD);
    NAME(OUT_OF_MEM);
    NAME(DEPTH_ZERO_SELF_SIGNED_CERT);
    NAME(SELF_SIGNED_CERT_IN_CHAIN);
    NAME(UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    NAME(UNABLE_TO_VERIFY_LEAF_SIGNATURE);
    NAME(CERT_CHAIN_TOO_LONG);
    NAME(CERT_REVOKED);
    NAME(INVALID_CA);
    NAME(PATH_LENGTH_EXCEEDED);
    NAME(INVALID_PURPOSE);
    NAME(CERT_UNTRUSTED);
    NAME(CERT_REJECTED);
    NAME(HOSTNAME_MISMATCH);
#undef NAME
    default:
      return "UNSPECIFIED";
  }
}

namespace {

// {"CN": "example.com", "O": "..."}: Node's shape, a repeated field as an array.
nlohmann::json name_fields(X509_NAME* name) {
  nlohmann::json fields = nlohmann::json::object();
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const char* key = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (key == nullptr || length < 0) continue;
    std::string value(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
    OPENSSL_free(utf8);
    auto& slot = fields[key];
    if (slot.is_null()) {
      slot = value;
    } else {
      if (!slot.is_array()) slot = nlohmann::json::array({slot});
      slot.push_back(value);
    }
  }
  return fields;
}

// "DNS:a.example, IP Address:127.0.0.1", as Node prints subjectAltName.
std::string alt_names(X509* cert) {
  int index = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
  if (index < 0) return "";
  X509_EXTENSION* extension = X509_get_ext(cert, index);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || X509V3_EXT_print(bio.get(), extension, 0, 0) != 1) return "";
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string time_text(const ASN1_TIME* time) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || ASN1_TIME_print(bio.get(), time) != 1) return "";
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string serial_number(X509* cert) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = number ? BN_bn2hex(number) : nullptr;
  std::string text = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(number);
  return text;
}

nlohmann::json certificate_json(X509* cert) {
  nlohmann::json out = {
      {"subject", name_fields(X509_get_subject_name(cert))},
      {"issuer", name_fields(X509_get_issuer_name(cert))},
      {"valid_from", time_text(X509_get0_notBefore(cert))},
      {"valid_to", time_text(X509_get0_notAfter(cert))},
      {"fingerprint", certificate_fingerprint(cert, EVP_sha1())},
      {"fingerprint256", certificate_fingerprint(cert, EVP_sha256())},
      {"fingerprint512", certificate_fingerprint(cert, EVP_sha512())},
      {"serialNumber", serial_number(cert)},
      {"ca", X509_check_ca(cert) != 0},
  };
  std::string alt = alt_names(cert);
  if (!alt.empty()) out["subjectaltname"] = alt;
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  if (length > 0) {
    // Base64 of the DER: socket.js turns it into getPeerCertificate().raw.
    std::string encoded(static_cast<size_t>(4 * ((length + 2) / 3)) + 1, '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), der, length);
    encoded.resize(static_cast<size_t>(written));
    out["raw"] = encoded;
  }
  OPENSSL_free(der);
  return out;
}

bool add_pem_certificates(X509_STORE* store, const std::string& pem, std::string& error) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  int added = 0;
  while (bio) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      error = openssl_error("options.ca: a certificate could not be added");
      return false;
    }
    ++added;
  }
  ERR_clear_error();  // the end of the PEM stream
  if (added == 0) {
    error = "options.ca: no PEM certificate found";
    return false;
  }
  return true;
}

int version_of(const std::string& name) {
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  return -1;
}

}  // namespace

std::string certificate_fingerprint(X509* cert, const EVP_MD* digest) {
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, digest, bytes, &length) != 1) return "";
  static const char* const kHex = "0123456789ABCDEF";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    if (i > 0) text += ':';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 15];
  }
  return text;
}

bool TlsClientOptions::parse(const std::string& text, TlsClientOptions& options, std::string& error) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) {
    error = "malformed TLS options";
    return false;
  }
  auto string_field = [&](const char* name, std::string& out) {
    auto it = json.find(name);
    if (it == json.end() || it->is_null()) return true;
    if (!it->is_string()) {
      error = std::string("options.") + name + " must be a string";
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  auto list_field = [&](const char* name, std::vector<std::string>& out, bool* present) {
    auto it = json.find(name);
    if (it == json.end() || it->is_null()) return true;
    if (present != nullptr) *present = true;
    for (const auto& item : *it) {
      if (!item.is_string()) {
        error = std::string("options.") + name + " must hold strings";
        return false;
      }
      out.push_back(item.get<std::string>());
    }
    return true;
  };
  std::string min_version, max_version;
  if (!string_field("servername", options.servername) || !string_field("cert", options.cert) ||
      !string_field("key", options.key) || !string_field("minVersion", min_version) ||
      !string_field("maxVersion", max_version) || !list_field("ca", options.ca, &options.has_ca) ||
      !list_field("ALPNProtocols", options.alpn, nullptr)) {
    return false;
  }
  for (const auto& protocol : options.alpn) {
    if (protocol.empty() || protocol.size() > 255) {
      error = "options.ALPNProtocols: each protocol is 1 to 255 bytes";
      return false;
    }
  }
  if (!min_version.empty() && (options.min_version = version_of(min_version)) < 0) {
    error = "options.minVersion: '" + min_version + "' is not TLSv1.2 or TLSv1.3";
    return false;
  }
  if (!max_version.empty() && (options.max_version = version_of(max_version)) < 0) {
    error = "options.maxVersion: '" + max_version + "' is not TLSv1.2 or TLSv1.3";
    return false;
  }
  if (options.cert.empty() != options.key.empty()) {
    error = "options.cert and options.key go together";
    return false;
  }
  return true;
}

TlsClientContexts::~TlsClientContexts() { SSL_CTX_free(bundle_); }

SSL_CTX* TlsClientContexts::bundle_context(std::string& error) {
  if (bundle_ != nullptr) return bundle_;
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    error = openssl_error("creating the TLS client context");
    return nullptr;
  }
  if (SSL_CTX_load_verify_file(ctx.get(), sandbox::kCaBundlePath) != 1) {
    error = openssl_error(std::string("reading the host's CA bundle ") + sandbox::kCaBundlePath);
    return nullptr;
  }
  bundle_ = ctx.release();
  return bundle_;
}

std::unique_ptr<TlsSession> TlsClientContexts::new_session(const TlsClientOptions& options, std::string& error) {
  // With its own `ca`, a connection gets a context of its own: the trust
  // store belongs to the context, and the bundle's must stay as it is.
  CtxPtr own;
  SSL_CTX* ctx = nullptr;
  if (options.has_ca) {
    own.reset(SSL_CTX_new(TLS_client_method()));
    if (!own) {
      error = openssl_error("creating the TLS client context");
      return nullptr;
    }
    for (const auto& pem : options.ca) {
      if (!add_pem_certificates(SSL_CTX_get_cert_store(own.get()), pem, error)) return nullptr;
    }
    ctx = own.get();
  } else {
    ctx = bundle_context(error);
    if (ctx == nullptr) return nullptr;
  }
  SslPtr ssl(SSL_new(ctx));
  if (!ssl) {
    error = openssl_error("creating the TLS session");
    return nullptr;
  }
  // Verified, not enforced here: socket.js rejects (or not) from the result.
  SSL_set_verify(ssl.get(), SSL_VERIFY_NONE, nullptr);
  SSL_set_min_proto_version(ssl.get(), options.min_version);
  if (options.max_version != 0) SSL_set_max_proto_version(ssl.get(), options.max_version);
  if (!options.servername.empty() && SSL_set_tlsext_host_name(ssl.get(), options.servername.c_str()) != 1) {
    error = openssl_error("options.servername");
    return nullptr;
  }
  if (!options.alpn.empty()) {
    std::vector<unsigned char> wire;
    for (const auto& protocol : options.alpn) {
      wire.push_back(static_cast<unsigned char>(protocol.size()));
      wire.insert(wire.end(), protocol.begin(), protocol.end());
    }
    if (SSL_set_alpn_protos(ssl.get(), wire.data(), static_cast<unsigned>(wire.size())) != 0) {
      error = openssl_error("options.ALPNProtocols");
      return nullptr;
    }
  }
  if (!options.cert.empty()) {
    Bio cert_bio(BIO_new_mem_buf(options.cert.data(), static_cast<int>(options.cert.size())));
    X509Ptr leaf(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!leaf || SSL_use_certificate(ssl.get(), leaf.get()) != 1) {
      error = openssl_error("options.cert");
      return nullptr;
    }
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
      if (SSL_add0_chain_cert(ssl.get(), extra) != 1) {
        X509_free(extra);
        error = openssl_error("options.cert");
        return nullptr;
      }
    }
    ERR_clear_error();
    Bio key_bio(BIO_new_mem_buf(options.key.data(), static_cast<int>(options.key.size())));
    KeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key || SSL_use_PrivateKey(ssl.get(), key.get()) != 1 || SSL_check_private_key(ssl.get()) != 1) {
      error = openssl_error("options.key");
      return nullptr;
    }
  }
  return TlsSession::client(ssl.release());
}

nlohmann::json client_session_info(SSL* ssl) {
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  nlohmann::json info = {
      {"protocol", SSL_get_version(ssl)},
      {"cipher",
       {{"name", cipher ? SSL_CIPHER_get_name(cipher) : ""},
        {"standardName", cipher ? SSL_CIPHER_standard_name(cipher) : ""},
        {"version", cipher ? SSL_CIPHER_get_version(cipher) : ""}}},
      {"alpnProtocol", alpn_length > 0 ? nlohmann::json(std::string(reinterpret_cast<const char*>(alpn), alpn_length))
                                       : nlohmann::json(false)},
      {"verifyError", nullptr},
      {"verifyMessage", nullptr},
      {"peerCertificate", nullptr},
  };
  X509* peer = SSL_get0_peer_certificate(ssl);
  long result = peer == nullptr ? X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT : SSL_get_verify_result(ssl);
  if (result != X509_V_OK) {
    info["verifyError"] = tls_verify_code_name(result);
    info["verifyMessage"] = X509_verify_cert_error_string(result);
  }
  if (peer != nullptr) info["peerCertificate"] = certificate_json(peer);
  return info;
}

}  // namespace worker
