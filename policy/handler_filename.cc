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

// Names show up in logs, status JSON and ctx.name: they must be printable UTF-8.
bool printable_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x20 || b == 0x7f) return false;
    size_t width = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (width == 0 || i + width > text.size()) return false;
    for (size_t k = 1; k < width; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
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
