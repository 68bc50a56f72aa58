#pragma once
// What a handler's TLS termination needs, read and checked by the supervisor
// (which can read root-only key files) and handed to the worker that
// terminates TLS in its sandbox. Only the broker's own configuration files
// are parsed here, never anything a client sent.
//
// Refused, naming the file: a file outside the configured key directories,
// a symlink, a file others can write, a key file others can read, a key that does not
// match its certificate, an expired or not yet valid certificate, an
// unreadable or oversized file.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/tls_settings.h"

namespace supervisor {

struct TlsCertificateInfo {
  std::string file;
  std::vector<std::string> names;  // subjectAltName DNS names, else the subject's CN
  std::string not_after;           // ISO 8601, UTC
};

struct TlsMaterial {
  // For the worker: {"certs": [{"cert", "key", "names"}], "on_demand", "names", "min_version", "alpn",
  // "client_ca", "client_cert_required", "handshake_timeout_ms"}.
  std::string worker_json;
  std::vector<TlsCertificateInfo> certificates;
  std::string files_signature;  // tls_files_signature() when it was read
};

// Files come only from `sources.key_dirs` (openat2 beneath the directory,
// no symlinks, owner root, others may not write them or read a key); what
// the worker gets is parsed and encoded again, never a file's raw text.
bool load_tls_material(const policy::TlsSettings& settings, const policy::TlsSources& sources, TlsMaterial& out,
                       std::string& error);

// Every certificate in `pem` (at least one), parsed and written out again,
// so what is passed on is what OpenSSL understood. `label` names the file.
bool reencode_certificates(const std::string& pem, const std::string& label, std::string& out, std::string& error);

// A private key (PEM, no passphrase), parsed and written out again; it must
// match the first certificate of `certificate_pem`.
bool reencode_private_key(const std::string& pem, const std::string& label, const std::string& certificate_pem,
                          std::string& out, std::string& error);

// The stamps (inode, size, times) of every file the settings name: differs
// when any of them was replaced or written.
std::string tls_files_signature(const policy::TlsSettings& settings);

// The folders holding those files, to watch for rotations.
std::vector<std::string> tls_file_dirs(const policy::TlsSettings& settings);

}  // namespace supervisor
