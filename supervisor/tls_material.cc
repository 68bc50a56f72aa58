#include "supervisor/tls_material.h"

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>

#include "common/bounded_file.h"
#include "common/file_stamp.h"
#include "common/openssl_ptr.h"
#include "common/openssl_text.h"

namespace supervisor {
namespace {

constexpr uint64_t kMaxPemBytes = 64 * 1024;
// The whole material travels in one channel message (256 KiB at most).
constexpr size_t kMaxMaterialBytes = 192 * 1024;

using Bio = common::BioPtr;
using common::KeyPtr;
using common::X509Ptr;

// Reads a file a manifest names: only beneath one of the key directories,
// without following symbolic links, non-blocking, a regular file owned by
// root (or the broker's user) that others cannot write, and, for a private
// key, that others cannot read either.
bool read_key_file(const std::string& path, bool secret, const policy::TlsSources& sources, std::string& out,
                   std::string& error) {
  std::string dir = policy::key_dir_of(path, sources.key_dirs);
  if (dir.empty()) {
    error = path + ": outside the key directories (" + policy::tls_sources_origin(sources, "key_dirs") + ")";
    return false;
  }
  common::FileRules dir_rules;
  dir_rules.owner = geteuid();
  dir_rules.forbidden_mode = S_IWGRP | S_IWOTH;
  common::UniqueFd dir_fd;
  if (!common::open_directory(dir, dir_rules, dir_fd, error)) return false;
  common::FileRules rules{.max_bytes = kMaxPemBytes,
                          .follow_symlinks = false,
                          .owner = geteuid(),
                          .forbidden_mode = static_cast<mode_t>(S_IWGRP | S_IWOTH | (secret ? S_IRWXO : 0))};
  if (!common::read_file_beneath(dir_fd.get(), path.substr(dir.size() + 1), path, rules, out, error)) {
    if (secret && error.find("gives others too much") != std::string::npos) {
      error += "; a private key must not be readable by every user (chmod 600 or 640)";
    }
    return false;
  }
  return true;
}

std::string pem_of(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string pem_of(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

// Every certificate in a PEM text, each parsed and written out again: the
// worker gets what OpenSSL understood, never the file's own bytes (comments,
// other PEM blocks and whatever else a file holds stay behind).
bool reencode_certificate_chain(const std::string& pem, const std::string& label, std::string& out, X509Ptr* first,
                                std::string& error) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  out.clear();
  for (int count = 0;; ++count) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      // The end of the text reads as "no start line"; anything else is broken.
      unsigned long reason = ERR_peek_last_error();
      ERR_clear_error();
      if (count > 0 && ERR_GET_REASON(reason) == PEM_R_NO_START_LINE) return true;
      error = label + ": " + (count == 0 ? "not a PEM certificate" : "a broken certificate after the first");
      return false;
    }
    out += pem_of(cert.get());
    if (count == 0 && first != nullptr) *first = std::move(cert);
  }
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
bool load_pair(const policy::TlsCertFiles& files, const policy::TlsSources& sources, nlohmann::json& entry,
               TlsCertificateInfo& info, std::string& error) {
  std::string cert_file;
  std::string key_pem;
  if (!read_key_file(files.cert, false, sources, cert_file, error) ||
      !read_key_file(files.key, true, sources, key_pem, error)) {
    return false;
  }
  std::string chain_pem;
  X509Ptr cert;
  if (!reencode_certificate_chain(cert_file, files.cert, chain_pem, &cert, error)) return false;
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
  entry = {{"cert", chain_pem}, {"key", pem_of(key.get())}, {"names", info.names}};
  return true;
}

}  // namespace

bool reencode_certificates(const std::string& pem, const std::string& label, std::string& out, std::string& error) {
  return reencode_certificate_chain(pem, label, out, nullptr, error);
}

bool reencode_private_key(const std::string& pem, const std::string& label, const std::string& certificate_pem,
                          std::string& out, std::string& error) {
  Bio key_bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    error = label + ": not a PEM private key without a passphrase (" + common::openssl_error() + ")";
    return false;
  }
  Bio cert_bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert || X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    error = label + ": does not match its certificate";
    return false;
  }
  out = pem_of(key.get());
  return true;
}

bool load_tls_material(const policy::TlsSettings& settings, const policy::TlsSources& sources, TlsMaterial& out,
                       std::string& error) {
  out = {};
  out.files_signature = tls_files_signature(settings);
  nlohmann::json certs = nlohmann::json::array();
  for (const auto& files : settings.certs) {
    nlohmann::json entry;
    TlsCertificateInfo info;
    if (!load_pair(files, sources, entry, info, error)) return false;
    certs.push_back(std::move(entry));
    out.certificates.push_back(std::move(info));
  }
  std::string client_ca;
  if (!settings.client_ca.empty()) {
    std::string bundle;
    if (!read_key_file(settings.client_ca, false, sources, bundle, error)) return false;
    if (!reencode_certificate_chain(bundle, settings.client_ca, client_ca, nullptr, error)) {
      error += " (the client CA bundle)";
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
