#include "supervisor/local_ca.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <utility>

#include "common/log.h"
#include "common/openssl_text.h"

namespace supervisor {
namespace {

constexpr int kCaYears = 10;

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(length));
  BIO_free(bio);
  return text;
}

bool write_file(const std::string& path, const std::string& text, mode_t mode, std::string& error) {
  // Created with its final mode, so the key is never readable by others, not even for a moment.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  int failure = 0;
  for (size_t written = 0; written < text.size() && failure == 0;) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      failure = n == 0 ? ENOSPC : errno;
    }
  }
  if (failure == 0 && fsync(fd) != 0) failure = errno;
  close(fd);
  if (failure == 0) return true;
  // A full or failing disk leaves no truncated file behind: the next attempt
  // (or a restart) would take it for a CA that exists and never create one.
  unlink(path.c_str());
  error = "cannot write " + path + ": " + std::strerror(failure);
  return false;
}

bool random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  bytes[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(bytes, sizeof bytes, nullptr);
  bool ok = number != nullptr && BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert)) != nullptr;
  BN_free(number);
  return ok;
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) return false;
  bool ok = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

// The subjectAltName as one DNS name, built as a structure: the name is
// never parsed as configuration text (where a comma would start another entry).
bool add_dns_name(X509* cert, const std::string& name) {
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  GENERAL_NAME* entry = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  bool ok = names != nullptr && entry != nullptr && text != nullptr &&
            ASN1_STRING_set(text, name.data(), static_cast<int>(name.size())) == 1;
  if (ok) {
    GENERAL_NAME_set0_value(entry, GEN_DNS, text);
    text = nullptr;
    ok = sk_GENERAL_NAME_push(names, entry) > 0;
    if (ok) entry = nullptr;
  }
  ok = ok && X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
  ASN1_IA5STRING_free(text);
  GENERAL_NAME_free(entry);
  GENERAL_NAMES_free(names);
  return ok;
}

// "permitted;DNS:a.example.com,...,excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/0" for
// the configured domains. The names were checked against the host-name
// grammar (letters, digits, hyphens, dots), so none can add an entry. A
// wildcard's constraint is its domain with a leading dot: subdomains only.
std::string name_constraints(const std::vector<std::string>& domains) {
  std::string value = "critical";
  for (const auto& domain : domains) {
    value += ",permitted;DNS:" + (domain.starts_with("*.") ? domain.substr(1) : domain);
  }
  return value + ",excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0";
}

bool replace_file(const std::string& path, const std::string& text, mode_t mode, std::string& error) {
  std::string temporary = path + ".new";
  unlink(temporary.c_str());
  if (!write_file(temporary, text, mode, error)) return false;
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot replace " + path + ": " + std::strerror(errno);
    unlink(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace

LocalCa::~LocalCa() {
  EVP_PKEY_free(key_);
  X509_free(certificate_);
}

void LocalCa::set_domains(std::vector<std::string> domains) {
  if (domains == domains_) return;
  domains_ = std::move(domains);
  // Loaded again (and re-issued) on next use.
  EVP_PKEY_free(std::exchange(key_, nullptr));
  X509_free(std::exchange(certificate_, nullptr));
  certificate_pem_.clear();
}

bool LocalCa::ensure(std::string& error) {
  if (certificate_ != nullptr) return true;
  // The state directory too, if nothing created it (the packages do, 0700).
  std::string parent = dir_.substr(0, dir_.rfind('/'));
  if (!parent.empty() && mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create " + parent + ": " + std::strerror(errno);
    return false;
  }
  if (mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create " + dir_ + ": " + std::strerror(errno);
    return false;
  }
  struct stat info {};
  if (stat((dir_ + "/ca.key").c_str(), &info) == 0) return load(error);
  return create(error);
}

bool LocalCa::load(std::string& error) {
  std::string key_path = dir_ + "/ca.key";
  struct stat info {};
  if (stat(key_path.c_str(), &info) != 0 || (info.st_mode & 077) != 0 || info.st_uid != geteuid()) {
    error = key_path + ": the local CA's key must belong to the broker's user and be readable by it only (0600)";
    return false;
  }
  FILE* key_file = fopen(key_path.c_str(), "re");
  FILE* cert_file = fopen(certificate_file().c_str(), "re");
  EVP_PKEY* key = key_file != nullptr ? PEM_read_PrivateKey(key_file, nullptr, nullptr, nullptr) : nullptr;
  X509* certificate = cert_file != nullptr ? PEM_read_X509(cert_file, nullptr, nullptr, nullptr) : nullptr;
  if (key_file != nullptr) fclose(key_file);
  if (cert_file != nullptr) fclose(cert_file);
  // Kept only when whole: a failed load leaves nothing half-set for a retry to trust.
  if (key == nullptr || certificate == nullptr || X509_check_private_key(certificate, key) != 1) {
    EVP_PKEY_free(key);
    X509_free(certificate);
    error = "cannot load the local CA from " + dir_ + ": " + common::openssl_error();
    return false;
  }
  if (!constraints_current(certificate)) {
    // The domains changed: the same key, a certificate for the new ones.
    X509* reissued = make_certificate(key, error);
    X509_free(certificate);
    if (reissued == nullptr || !replace_file(certificate_file(), pem_of(reissued), 0644, error)) {
      X509_free(reissued);
      EVP_PKEY_free(key);
      return false;
    }
    certificate = reissued;
    common::log::info("ca-reissued").kv("certificate", certificate_file()).kv("domains", domains_.size());
  }
  key_ = key;
  certificate_ = certificate;
  certificate_pem_ = pem_of(certificate_);
  return true;
}

bool LocalCa::constraints_current(X509* certificate) const {
  std::unique_ptr<X509, void (*)(X509*)> expected(X509_new(), X509_free);
  if (!expected || !add_extension(expected.get(), expected.get(), NID_name_constraints, name_constraints(domains_).c_str())) {
    return false;
  }
  X509_EXTENSION* want = X509_get_ext(expected.get(), 0);
  int index = X509_get_ext_by_NID(certificate, NID_name_constraints, -1);
  if (index < 0) return false;
  X509_EXTENSION* have = X509_get_ext(certificate, index);
  return ASN1_STRING_cmp(X509_EXTENSION_get_data(want), X509_EXTENSION_get_data(have)) == 0 &&
         X509_EXTENSION_get_critical(have) == 1;
}

X509* LocalCa::make_certificate(EVP_PKEY* key, std::string& error) const {
  std::unique_ptr<X509, void (*)(X509*)> certificate_owner(X509_new(), X509_free);
  X509* certificate = certificate_owner.get();
  if (certificate == nullptr) {
    error = "cannot create the local CA: " + common::openssl_error();
    return nullptr;
  }
  X509_set_version(certificate, 2);
  X509_NAME* name = X509_get_subject_name(certificate);
  char hostname[256] = "localhost";
  gethostname(hostname, sizeof hostname - 1);
  std::string common_name = std::string("portbroker local CA (") + hostname + ")";
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600L * 24 * 365 * kCaYears);
  bool ok = random_serial(certificate) && X509_set_pubkey(certificate, key) == 1 &&
            add_extension(certificate, certificate, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
            add_extension(certificate, certificate, NID_key_usage, "critical,keyCertSign,cRLSign") &&
            add_extension(certificate, certificate, NID_subject_key_identifier, "hash") &&
            add_extension(certificate, certificate, NID_name_constraints, name_constraints(domains_).c_str()) &&
            X509_sign(certificate, key, EVP_sha256()) > 0;
  if (!ok) {
    error = "cannot create the local CA: " + common::openssl_error();
    return nullptr;
  }
  return certificate_owner.release();
}

bool LocalCa::create(std::string& error) {
  // Built apart and kept only when written: a failure leaves nothing for a retry to trust.
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_owner(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key_owner) {
    error = "cannot create the local CA: " + common::openssl_error();
    return false;
  }
  EVP_PKEY* key = key_owner.get();
  std::unique_ptr<X509, void (*)(X509*)> certificate_owner(make_certificate(key, error), X509_free);
  X509* certificate = certificate_owner.get();
  if (certificate == nullptr) return false;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string key_pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  std::string certificate_pem = pem_of(certificate);
  // The certificate last: a half-created CA (key only) is detected at load.
  std::string key_path = dir_ + "/ca.key";
  if (!write_file(key_path, key_pem, 0600, error)) return false;
  if (!write_file(certificate_file(), certificate_pem, 0644, error)) {
    // Without its certificate the key is useless, and its presence would
    // make every later attempt load instead of create.
    unlink(key_path.c_str());
    return false;
  }
  key_ = key_owner.release();
  certificate_ = certificate_owner.release();
  certificate_pem_ = certificate_pem;
  return true;
}

bool LocalCa::issue(const std::string& name, const std::string& public_key_pem, Issued& out, std::string& error) {
  if (certificate_ == nullptr && !ensure(error)) return false;
  BIO* bio = BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size()));
  EVP_PKEY* subject_key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (subject_key == nullptr) {
    ERR_clear_error();
    error = "the worker's public key is not a PEM public key";
    return false;
  }
  X509* leaf = X509_new();
  X509_set_version(leaf, 2);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(leaf, X509_get_subject_name(certificate_));
  X509_gmtime_adj(X509_getm_notBefore(leaf), -3600);
  X509_gmtime_adj(X509_getm_notAfter(leaf), 3600L * 24 * kLeafDays);
  bool ok = random_serial(leaf) && X509_set_pubkey(leaf, subject_key) == 1 &&
            add_extension(leaf, certificate_, NID_basic_constraints, "critical,CA:FALSE") &&
            add_extension(leaf, certificate_, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
            add_extension(leaf, certificate_, NID_ext_key_usage, "serverAuth") && add_dns_name(leaf, name) &&
            add_extension(leaf, certificate_, NID_authority_key_identifier, "keyid:always") &&
            X509_sign(leaf, key_, EVP_sha256()) > 0;
  EVP_PKEY_free(subject_key);
  if (!ok) {
    X509_free(leaf);
    error = "cannot issue a certificate for " + name + ": " + common::openssl_error();
    return false;
  }
  out.cert_pem = pem_of(leaf) + certificate_pem_;
  out.not_after = common::asn1_time_iso(X509_get0_notAfter(leaf), &out.not_after_s);
  X509_free(leaf);
  return true;
}

}  // namespace supervisor
