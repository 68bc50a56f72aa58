#pragma once
// OpenSSL's results as text for logs and status: the error queue as one line,
// certificate times as ISO 8601.

#include <openssl/asn1.h>
#include <openssl/err.h>

#include <cstdint>
#include <ctime>
#include <string>

namespace common {

// The most recent error, then the queue cleared so it cannot leak into the next call.
inline std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  return text;
}

// "2026-11-22T12:00:00Z" (UTC); `seconds`, if given, gets the time since the epoch.
inline std::string asn1_time_iso(const ASN1_TIME* time, int64_t* seconds = nullptr) {
  tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return "";
  if (seconds != nullptr) *seconds = timegm(&parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace common
