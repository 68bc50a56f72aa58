// The `store` section of the broker config and its URL (policy/store_backend).
// Operator input, but a typo must never take the broker down in an
// unexpected way, and nothing outside the documented bounds may pass.
// Properties, for any bytes:
// - parse_store_url never throws; an accepted URL prints in a canonical form
//   that parses back to the same URL (and prints the same again), never
//   holds a password, and names a Unix socket (absolute path) or a valid
//   host with a port.
// - read_store_backend, given the bytes as JSON, throws nothing but
//   JsonFieldError under "/store"; an accepted section is within bounds.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "policy/json_fields.h"
#include "policy/store_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  std::string error;
  auto url = policy::parse_store_url(text, error);
  if (!url) {
    FUZZ_CHECK(!error.empty());
  } else {
    std::string canonical = url->to_string();
    std::string again_error;
    auto again = policy::parse_store_url(canonical, again_error);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *url);
    FUZZ_CHECK(again->to_string() == canonical);
    if (url->address.is_unix()) {
      FUZZ_CHECK(url->address.unix_path.front() == '/');
      FUZZ_CHECK(!url->tls);
    } else {
      FUZZ_CHECK(policy::store_host_valid(url->address.host));
      FUZZ_CHECK(url->address.port >= 1);
    }
    FUZZ_CHECK(url->database <= policy::kMaxStoreDatabase);
  }

  nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_discarded()) return 0;
  policy::StoreBackendConfig config;
  try {
    config = policy::read_store_backend(value, "/store");
  } catch (const policy::JsonFieldError& e) {
    FUZZ_CHECK(e.path().starts_with("/store"));
    FUZZ_CHECK(std::string_view(e.what()).starts_with(e.path() + ": "));
    return 0;
  } catch (...) {
    FUZZ_CHECK(!"read_store_backend threw something other than JsonFieldError");
  }
  FUZZ_CHECK(config.external());
  FUZZ_CHECK(config.prefix.size() <= policy::kMaxStorePrefixBytes);
  FUZZ_CHECK(config.database <= policy::kMaxStoreDatabase);
  FUZZ_CHECK(config.timeout_ms >= 1);
  if (config.kind == policy::StoreBackendConfig::Kind::sentinel) {
    FUZZ_CHECK(!config.sentinels.empty() && config.sentinels.size() <= policy::kMaxSentinels);
    FUZZ_CHECK(!config.master_name.empty());
  } else {
    FUZZ_CHECK(config.sentinels.empty());
  }
  if (config.tls) FUZZ_CHECK(!config.tls_ca_file.empty() && config.tls_ca_file.front() == '/');
  FUZZ_CHECK(config.tls_cert_file.empty() == config.tls_key_file.empty());
  for (const std::string* path : {&config.password_file, &config.sentinel_password_file}) {
    FUZZ_CHECK(path->empty() || path->front() == '/');
  }
  return 0;
}
