#pragma once
// OpenSSL's error queue as one line for a log or status message: the most
// recent error, then the queue cleared so it cannot leak into the next call.

#include <openssl/err.h>

#include <string>

namespace common {

inline std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace common
