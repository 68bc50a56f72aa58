#include "supervisor/tls_material.h"

#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "common/file_stamp.h"
#include "common/openssl_text.h"

namespace supervisor {
namespace {

constexpr uint64_t kMaxPemBytes = 64 * 1024;
// The whole material travels in one channel message (256 KiB at most).
constexpr size_t kMaxMaterialBytes = 192 * 1024;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

bool read_pem(const std::string& path, bool secret, std::string& out, std::string& error) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(info.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  if (secret && (info.st_mode & S_IROTH) != 0) {
    error = path + ": the private key is readable by every user (mode " +
            [&] { std::ostringstream mode; mode << std::oct << (info.st_mode & 07777); return mode.str(); }() +
            "); make it readable by root only (chmod 600)";
    return false;
  }
  if (static_cast<uint64_t>(info.st_size) > kMaxPemBytes) {
    error = path + ": larger than " + std::to_string(kMaxPemBytes) + " bytes";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    error = path + ": cannot read";
    return false;
  }
  out = text.str();
  return true;
}

std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> names;
  auto* alt = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (alt != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(alt); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt, i);
      if (name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)), ASN1_STRING_length(dns));
    }
    GENERAL_NAMES_free(alt);
  }
  if (names.empty()) {
    char common_name[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, common_name, sizeof common_name) > 0) {
      names.emplace_back(common_name);
    }
  }
  return names;
}

// Reads one pair and checks it; fills the worker's entry and the status entry.
bool load_pair(const policy::TlsCertFiles& files, nlohmann::json& entry, TlsCertificateInfo& info, std::string& error) {
  std::string cert_pem;
  std::string key_pem;
  if (!read_pem(files.cert, false, cert_pem, error) || !read_pem(files.key, true, key_pem, error)) return false;
  Bio cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    error = files.cert + ": not a PEM certificate (" + common::openssl_error() + ")";
    return false;
  }
  Bio key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    error = files.key + ": not a PEM private key without a passphrase (" + common::openssl_error() + ")";
    return false;
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    error = files.key + ": does not match the certificate in " + files.cert;
    return false;
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0) {
    error = files.cert + ": expired on " + common::asn1_time_iso(X509_get0_notAfter(cert.get()));
    return false;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) >= 0) {
    error = files.cert + ": not valid before " + common::asn1_time_iso(X509_get0_notBefore(cert.get()));
    return false;
  }
  info = {files.cert, certificate_names(cert.get()), common::asn1_time_iso(X509_get0_notAfter(cert.get()))};
  entry = {{"cert", cert_pem}, {"key", key_pem}, {"names", info.names}};
  return true;
}

}  // namespace

bool load_tls_material(const policy::TlsSettings& settings, TlsMaterial& out, std::string& error) {
  out = {};
  out.files_signature = tls_files_signature(settings);
  nlohmann::json certs = nlohmann::json::array();
  for (const auto& files : settings.certs) {
    nlohmann::json entry;
    TlsCertificateInfo info;
    if (!load_pair(files, entry, info, error)) return false;
    certs.push_back(std::move(entry));
    out.certificates.push_back(std::move(info));
  }
  std::string client_ca;
  if (!settings.client_ca.empty()) {
    if (!read_pem(settings.client_ca, false, client_ca, error)) return false;
    Bio bio(BIO_new_mem_buf(client_ca.data(), static_cast<int>(client_ca.size())));
    X509Ptr first(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!first) {
      ERR_clear_error();
      error = settings.client_ca + ": no PEM certificate in the client CA bundle";
      return false;
    }
  }
  nlohmann::json worker = {
      {"certs", certs},
      {"on_demand", settings.on_demand},
      {"names", settings.names},
      {"min_version", settings.min_version},
      {"alpn", settings.alpn},
      {"client_ca", client_ca},
      {"client_cert_required", settings.client_cert_required},
      {"handshake_timeout_ms", settings.handshake_timeout_ms},
  };
  out.worker_json = worker.dump();
  if (out.worker_json.size() > kMaxMaterialBytes) {
    error = "the certificates and keys together are larger than " + std::to_string(kMaxMaterialBytes / 1024) + " KiB";
    return false;
  }
  return true;
}

std::string tls_files_signature(const policy::TlsSettings& settings) {
  std::string signature;
  auto add = [&](const std::string& path) { signature += path + "=" + common::file_stamp(path) + "\n"; };
  for (const auto& files : settings.certs) {
    add(files.cert);
    add(files.key);
  }
  if (!settings.client_ca.empty()) add(settings.client_ca);
  return signature;
}

std::vector<std::string> tls_file_dirs(const policy::TlsSettings& settings) {
  std::set<std::string> dirs;
  auto add = [&](const std::string& path) { dirs.insert(path.substr(0, std::max<size_t>(1, path.rfind('/')))); };
  for (const auto& files : settings.certs) {
    add(files.cert);
    add(files.key);
  }
  if (!settings.client_ca.empty()) add(settings.client_ca);
  return {dirs.begin(), dirs.end()};
}

}  // namespace supervisor
