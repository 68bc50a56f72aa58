#include "policy/handler_filename.h"

namespace policy {
namespace {

// A canonical port: decimal digits only, no sign, no leading zero, 1..65535.
bool parse_port(std::string_view token, uint16_t& port, std::string& reason) {
  if (token.empty()) {
    reason = "missing port";
    return false;
  }
  for (char c : token) {
    if (c < '0' || c > '9') {
      reason = "port '" + std::string(token) + "' is not a decimal integer";
      return false;
    }
  }
  if (token.size() > 1 && token[0] == '0') {
    reason = "port '" + std::string(token) + "' has a leading zero (write it without)";
    return false;
  }
  if (token.size() > 5) {
    reason = "port " + std::string(token) + " is out of range 1-65535";
    return false;
  }
  unsigned long value = std::stoul(std::string(token));
  if (value < 1 || value > 65535) {
    reason = "port " + std::string(token) + " is out of range 1-65535";
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

// Names show up in logs, status JSON and ctx.name: they must be valid UTF-8
// (no overlong forms, surrogates or code points past U+10FFFF) without C0 or
// C1 control characters.
bool printable_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    uint32_t code_point;
    size_t width;
    if (b < 0x80) {
      code_point = b;
      width = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      code_point = b & 0x1Fu;
      width = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      code_point = b & 0x0Fu;
      width = 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      code_point = b & 0x07u;
      width = 4;
    } else {
      return false;
    }
    if (i + width > text.size()) return false;
    for (size_t k = 1; k < width; ++k) {
      auto continuation = static_cast<unsigned char>(text[i + k]);
      if ((continuation & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (continuation & 0x3Fu);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[width] || code_point > 0x10FFFF) return false;  // overlong, too large
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;         // surrogate
    if (code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F)) return false;  // C0, DEL, C1
    i += width;
  }
  return true;
}

}  // namespace

std::string_view transport_name(Transport transport) { return transport == Transport::tcp ? "tcp" : "udp"; }

FilenameVerdict classify_filename(std::string_view filename) {
  FilenameVerdict verdict;
  if (filename.size() <= kEntryPointSuffix.size() || !filename.ends_with(kEntryPointSuffix)) {
    return verdict;
  }
  auto invalid = [&](std::string reason) {
    verdict.kind = FilenameVerdict::Kind::invalid;
    verdict.reason = std::move(reason);
    return verdict;
  };
  std::string_view stem = filename.substr(0, filename.size() - kEntryPointSuffix.size());

  // Tokens are taken from the right, so a name may itself contain dots.
  size_t port_dot = stem.rfind('.');
  if (port_dot == std::string_view::npos) {
    return invalid("expected <name>.<tcp|udp>.<port>.port.js");
  }
  std::string_view port_token = stem.substr(port_dot + 1);
  std::string_view rest = stem.substr(0, port_dot);
  size_t transport_dot = rest.rfind('.');
  std::string_view transport_token = transport_dot == std::string_view::npos ? rest : rest.substr(transport_dot + 1);
  std::string_view name = transport_dot == std::string_view::npos ? std::string_view{} : rest.substr(0, transport_dot);

  if (transport_token == "tcp") {
    verdict.handler.transport = Transport::tcp;
  } else if (transport_token == "udp") {
    verdict.handler.transport = Transport::udp;
  } else if (transport_dot == std::string_view::npos && !port_token.empty() &&
             (port_token == "tcp" || port_token == "udp")) {
    return invalid("missing port after '" + std::string(port_token) + "'");
  } else {
    return invalid("transport '" + std::string(transport_token) + "' is not tcp or udp");
  }
  uint16_t port = 0;
  std::string reason;
  if (!parse_port(port_token, port, reason)) return invalid(reason);
  if (name.empty()) return invalid("empty handler name");
  if (name.front() == '.') return invalid("hidden file (name starts with '.')");
  if (!printable_utf8(name)) return invalid("handler name is not printable UTF-8");
  verdict.kind = FilenameVerdict::Kind::entry_point;
  verdict.handler.name = std::string(name);
  verdict.handler.port = port;
  return verdict;
}

}  // namespace policy
