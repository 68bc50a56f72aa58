#include "supervisor/handler_tls.h"

#include <ctime>

#include "common/log.h"

namespace supervisor {
namespace {

constexpr size_t kMaxIssuedNames = 1024;
constexpr unsigned kMaxIssuancesPerSecond = 50;
constexpr int64_t kRenewBeforeS = 7 * 24 * 3600;
constexpr size_t kMaxFailureReasons = 32;

}  // namespace

bool HandlerTls::load(const policy::TlsSettings* settings, TlsMaterial& material, std::string& error) {
  material = {};
  if (settings == nullptr || !settings->enabled) return true;
  // The local CA is created (or checked) before any handshake needs it.
  if (settings->on_demand && !context_.ca.ensure(error)) return false;
  return load_tls_material(*settings, context_.sources, material, error);
}

bool HandlerTls::put_in_force(TlsMaterial material) {
  bool changed = material.worker_json != in_force_.worker_json;
  in_force_ = std::move(material);
  clear_error();
  return changed;
}

void HandlerTls::clear_error() {
  error_.clear();
  rejected_files_.clear();
}

bool HandlerTls::files_changed(const policy::TlsSettings* settings) const {
  if (settings == nullptr || !settings->enabled || in_force_.worker_json.empty()) return false;
  std::string now = tls_files_signature(*settings);
  return now != in_force_.files_signature && now != rejected_files_;
}

bool HandlerTls::refresh(const policy::TlsSettings& settings) {
  TlsMaterial material;
  std::string error;
  if (!load(&settings, material, error)) {
    rejected_files_ = tls_files_signature(settings);
    error_ = "tls: " + error + " (the certificates in force stay)";
    common::log::error("tls-reload-failed").kv("handler", handler_name_).kv_nonempty("tenant", context_.tenant).kv("reason", error);
    return false;
  }
  bool changed = put_in_force(std::move(material));
  common::log::info("tls-reloaded").kv("handler", handler_name_).kv_nonempty("tenant", context_.tenant).kv("certificates", in_force_.certificates.size());
  return changed;
}

void HandlerTls::on_stats(const ipc::TlsStats& delta) {
  // Deltas from any of the handler's workers; reasons are bounded by the
  // decoder, and by this table's size across reports.
  handshakes_ += delta.handshakes;
  for (const auto& failure : delta.failures) {
    if (failures_.count(failure.reason) || failures_.size() < kMaxFailureReasons) failures_[failure.reason] += failure.count;
  }
}

void HandlerTls::on_certificate_request(WorkerProcess& worker, const policy::TlsSettings* settings,
                                        const ipc::TlsCertificateRequest& request) {
  const std::string& name = request.name;
  ipc::TlsCertificate answer{name, "", "", false};
  // `permanent`: the name will never get one (the worker stops asking).
  auto refuse = [&](const std::string& why, bool permanent = false) {
    answer.error = why;
    answer.permanent = permanent;
    // Clients choose the names (SNI): the log gets a bounded share.
    if (refusal_log_.allow(uv_now(context_.loop))) {
      common::log::warn("tls-certificate-refused")
          .kv("handler", handler_name_).kv_nonempty("tenant", context_.tenant)
          .kv("name", name)
          .kv("reason", why)
          .kv("suppressed", refusal_log_.take_suppressed());
    }
    worker.send_tls_certificate(answer);
  };
  if (settings == nullptr || !settings->enabled || !settings->on_demand) {
    return refuse("this handler has no on-demand certificates", true);
  }
  // The worker checked the name too; the supervisor does not rely on it:
  // only a plain host name the manifest lists, within the operator's
  // domains (a tenant's: its own), gets a certificate.
  if (!policy::tls_name_allowed(settings->names, name)) return refuse("the name is not in the manifest's tls.names", true);
  if (!policy::tls_name_allowed(context_.sources.domains, name)) {
    return refuse("the name is not in " + policy::tls_sources_origin(context_.sources, "domains"), true);
  }
  int64_t now = static_cast<int64_t>(time(nullptr));
  auto cached = issued_.find(name);
  if (cached == issued_.end() || cached->second.public_key != request.public_key_pem ||
      cached->second.issued.not_after_s - now < kRenewBeforeS) {
    // Signing is cheap but not free, and a wildcard allows endless names:
    // a handler gets a bounded number of new certificates per second.
    uint64_t now_ms = uv_now(context_.loop);
    if (now_ms - issue_window_start_ms_ >= 1000) {
      issue_window_start_ms_ = now_ms;
      issued_in_window_ = 0;
    }
    if (++issued_in_window_ > kMaxIssuancesPerSecond) return refuse("too many new certificates this second");
    LocalCa::Issued issued;
    std::string error;
    if (!context_.ca.issue(name, request.public_key_pem, issued, error)) return refuse(error);
    // Bounded: the oldest issuance goes first.
    if (cached == issued_.end()) {
      if (issued_.size() >= kMaxIssuedNames) {
        issued_.erase(issue_order_.front());
        issue_order_.pop_front();
      }
      issue_order_.push_back(name);
    }
    issued_[name] = {request.public_key_pem, issued};
    common::log::info("tls-certificate-issued")
        .kv("handler", handler_name_).kv_nonempty("tenant", context_.tenant)
        .kv("name", name)
        .kv("not_after", issued.not_after);
  }
  answer.cert_pem = issued_[name].issued.cert_pem;
  worker.send_tls_certificate(answer);
}

nlohmann::json HandlerTls::status(const policy::TlsSettings& settings) const {
  nlohmann::json certificates = nlohmann::json::array();
  for (const auto& cert : in_force_.certificates) {
    certificates.push_back({{"file", cert.file}, {"names", cert.names}, {"not_after", cert.not_after}});
  }
  for (const auto& [name, cert] : issued_) {
    certificates.push_back({{"file", nullptr}, {"names", {name}}, {"not_after", cert.issued.not_after}});
  }
  return {{"certificates", certificates},
          {"min_version", settings.min_version},
          {"alpn", settings.alpn},
          {"client_certificates", settings.client_ca.empty()      ? "off"
                                  : settings.client_cert_required ? "required"
                                                                  : "optional"},
          {"on_demand", settings.on_demand},
          {"handshakes", handshakes_},
          {"failures", failures_}};
}

}  // namespace supervisor
