#pragma once
// One handler's TLS, apart from the handler's version and reload state
// machine: the material in force (certificates and keys read from the key
// directories, or on-demand issuance), its rotation on disk, on-demand
// certificates with their cache and rate, and the handshake statistics its
// workers report. The handler decides when; this class knows how.

#include <uv.h>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log_budget.h"
#include "ipc/messages.h"
#include "policy/tls_settings.h"
#include "supervisor/local_ca.h"
#include "supervisor/tls_material.h"
#include "supervisor/worker_process.h"

namespace supervisor {

class HandlerTls {
 public:
  // What it needs from the broker, and nothing more.
  struct Context {
    uv_loop_t* loop;
    LocalCa& ca;
    const policy::TlsSources& sources;  // the folder's key directories and domains
    std::string tenant;                 // labels log lines; empty for the operator's
  };

  HandlerTls(Context context, std::string handler_name)
      : context_(context), handler_name_(std::move(handler_name)) {}

  // Reads the material `settings` ask for into `material` (empty when TLS
  // is off); false with `error` when it cannot be used.
  bool load(const policy::TlsSettings* settings, TlsMaterial& material, std::string& error);
  // Puts `material` in force; true if what workers get changed (the caller
  // then sends it to its running workers).
  bool put_in_force(TlsMaterial material);
  // Certificates changed on disk: read them again. True if new material is
  // in force; a bad rotation keeps the material in force and error() says why.
  bool refresh(const policy::TlsSettings& settings);
  // Whether the files `settings` name changed since they were read (and not
  // to a version already refused).
  bool files_changed(const policy::TlsSettings* settings) const;
  const std::string& worker_json() const { return in_force_.worker_json; }
  // Why rotated certificates are not in force (empty: they are).
  const std::string& error() const { return error_; }
  void clear_error();

  void on_stats(const ipc::TlsStats& delta);
  // On-demand: checks the name against the manifest and the operator's
  // domains, and answers `worker` with a certificate from the local CA
  // (cached per name and worker key) or why there is none.
  void on_certificate_request(WorkerProcess& worker, const policy::TlsSettings* settings,
                              const ipc::TlsCertificateRequest& request);

  nlohmann::json status(const policy::TlsSettings& settings) const;

 private:
  struct IssuedCertificate {
    std::string public_key;
    LocalCa::Issued issued;
  };

  Context context_;
  std::string handler_name_;
  TlsMaterial in_force_;         // empty worker_json: plaintext
  std::string error_;
  std::string rejected_files_;   // their signature, so a bad rotation is reported once
  uint64_t handshakes_ = 0;
  std::map<std::string, uint64_t> failures_;  // by reason
  std::map<std::string, IssuedCertificate> issued_;  // on-demand, by name
  std::deque<std::string> issue_order_;              // oldest first
  uint64_t issue_window_start_ms_ = 0;
  unsigned issued_in_window_ = 0;
  common::LogBudget refusal_log_{20, 60};  // tls-certificate-refused lines
};

}  // namespace supervisor
