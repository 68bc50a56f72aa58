#pragma once
// The broker's own certificate authority, for handlers whose manifest asks
// for on-demand certificates. Created on first use under
// <state_dir>/ca/ (its key readable by root only), used only by the
// supervisor, which signs a certificate for a name a worker asks for (over
// the worker's own public key, whose private half never leaves the worker's
// sandbox). `portbrokerctl ca` prints its certificate so clients can trust it.
//
// The CA certificate carries name constraints: it is valid only for the
// operator's configured domains (tls.domains) and for no IP address, so a
// client that trusts it trusts it for nothing else, even if the broker
// were made to sign a wrong name. When the domains change, the certificate
// is issued again over the same key (clients then need the new ca.pem for
// the new names; certificates already issued stay valid).

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

namespace supervisor {

class LocalCa {
 public:
  LocalCa(std::string dir, std::vector<std::string> domains) : dir_(std::move(dir)), domains_(std::move(domains)) {}
  ~LocalCa();
  LocalCa(const LocalCa&) = delete;
  LocalCa& operator=(const LocalCa&) = delete;

  // Loads the CA, creating it the first time.
  bool ensure(std::string& error);
  // The domains changed (a reload changed a tenant's): the next ensure()
  // issues the certificate again if its constraints no longer match.
  void set_domains(std::vector<std::string> domains);
  const std::string& certificate_pem() const { return certificate_pem_; }
  std::string certificate_file() const { return dir_ + "/ca.pem"; }

  struct Issued {
    std::string cert_pem;
    std::string not_after;    // ISO 8601, UTC
    int64_t not_after_s = 0;  // seconds since the epoch
  };
  // A certificate for `name` over `public_key_pem`, valid kLeafDays.
  bool issue(const std::string& name, const std::string& public_key_pem, Issued& out, std::string& error);

  static constexpr int kLeafDays = 30;

 private:
  bool create(std::string& error);
  bool load(std::string& error);
  // A self-signed CA certificate over `key` constrained to domains_.
  X509* make_certificate(EVP_PKEY* key, std::string& error) const;
  // Whether `certificate`'s name constraints are those domains_ call for.
  bool constraints_current(X509* certificate) const;

  std::string dir_;
  std::vector<std::string> domains_;
  EVP_PKEY* key_ = nullptr;
  X509* certificate_ = nullptr;
  std::string certificate_pem_;
};

}  // namespace supervisor
