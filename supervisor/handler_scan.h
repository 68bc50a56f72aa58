#pragma once
// Reads the top level of the handlers folder: which files are entry points,
// and which look like attempts but are not (each with the reason). Nested
// files and other files are supporting code and are not reported.

#include <cstdint>
#include <string>
#include <vector>

#include <optional>

#include "policy/handler_filename.h"
#include "policy/manifest.h"

namespace supervisor {

struct HandlerFile {
  std::string file;  // the name inside the handlers folder
  policy::HandlerId id;
  int64_t mtime_ns = 0;
  std::string code_stamp;  // common::file_stamp of the entry file (through a symlink)
  // The sidecar `<name>.<proto>.<port>.port.json`, if there is one. An invalid
  // one leaves `manifest` empty and says why in `manifest_error`: the handler
  // must then not open (fail closed).
  std::optional<policy::Manifest> manifest;
  std::string manifest_file;
  std::string manifest_error;
  // Tells one version of the manifest from another: its text, its error, or
  // empty when there is none.
  std::string manifest_signature;
};

struct IgnoredFile {
  std::string file;
  std::string reason;
};

struct ScanResult {
  std::vector<HandlerFile> entry_points;  // in claim order: older first, then by name
  std::vector<IgnoredFile> ignored;
};

// False (with `error`) only when the folder itself cannot be read. A
// manifest naming key files or on-demand names outside `tls` is invalid.
bool scan_handlers_dir(const std::string& dir, const policy::TlsSources& tls, ScanResult& result, std::string& error);

}  // namespace supervisor
