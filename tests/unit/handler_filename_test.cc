#include "policy/handler_filename.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using policy::classify_filename;
using policy::FilenameVerdict;
using policy::Transport;
using Kind = policy::FilenameVerdict::Kind;

namespace {

std::string kind_name(Kind kind) {
  switch (kind) {
    case Kind::entry_point: return "entry_point";
    case Kind::not_an_attempt: return "not_an_attempt";
    case Kind::invalid: return "invalid";
  }
  return "?";
}

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

}  // namespace

TEST_CASE("transport_name spells the grammar's tokens") {
  CHECK(policy::transport_name(Transport::tcp) == "tcp");
  CHECK(policy::transport_name(Transport::udp) == "udp");
}

TEST_CASE("well-formed names are entry points with name, transport and port") {
  struct Case {
    std::string file;
    std::string name;
    Transport transport;
    uint16_t port;
  };
  const std::vector<Case> cases = {
      {"echo.tcp.7000.port.js", "echo", Transport::tcp, 7000},
      {"ping.udp.9000.port.js", "ping", Transport::udp, 9000},
      {"lowest.tcp.1.port.js", "lowest", Transport::tcp, 1},
      {"highest.udp.65535.port.js", "highest", Transport::udp, 65535},
      {"ten.tcp.10.port.js", "ten", Transport::tcp, 10},
      {"x.tcp.80.port.js", "x", Transport::tcp, 80},
      // Tokens are taken from the right: a name may contain dots, even ones
      // that look like other tokens.
      {"my.api.v2.tcp.8080.port.js", "my.api.v2", Transport::tcp, 8080},
      {"a.udp.53.tcp.53.port.js", "a.udp.53", Transport::tcp, 53},
      {"dns.tcp.53.udp.53.port.js", "dns.tcp.53", Transport::udp, 53},
      {"trailing..tcp.7000.port.js", "trailing.", Transport::tcp, 7000},
      {"x.port.js.tcp.7000.port.js", "x.port.js", Transport::tcp, 7000},
      // Names are printable UTF-8, not just ASCII.
      {"caf\xC3\xA9.tcp.7001.port.js", "caf\xC3\xA9", Transport::tcp, 7001},
      {"\xE6\x97\xA5\xE6\x9C\xAC.udp.7002.port.js", "\xE6\x97\xA5\xE6\x9C\xAC", Transport::udp, 7002},
      {"\xF0\x9F\x98\x80.tcp.7003.port.js", "\xF0\x9F\x98\x80", Transport::tcp, 7003},
      {"with space.tcp.7004.port.js", "with space", Transport::tcp, 7004},
      {"dash-and_underscore~.tcp.7005.port.js", "dash-and_underscore~", Transport::tcp, 7005},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    auto verdict = classify_filename(c.file);
    REQUIRE(kind_name(verdict.kind) == "entry_point");
    CHECK(verdict.handler.name == c.name);
    CHECK(verdict.handler.transport == c.transport);
    CHECK(verdict.handler.port == c.port);
    CHECK(verdict.reason.empty());
  }
}

TEST_CASE("a .port.js file that breaks the grammar is invalid, with a reason naming the problem") {
  struct Case {
    std::string file;
    std::vector<std::string> reason_mentions;  // each must appear (case-insensitively)
  };
  const std::vector<Case> cases = {
      // Port range.
      {"zero.tcp.0.port.js", {"0", "range"}},
      {"big.tcp.70000.port.js", {"70000", "range"}},
      {"just-over.udp.65536.port.js", {"65536", "range"}},
      {"huge.tcp.99999999999999999999999.port.js", {"99999999999999999999999", "range"}},
      // Canonical form: no leading zero, no sign, digits only.
      {"lead.tcp.07000.port.js", {"07000", "leading zero"}},
      {"zeros.tcp.00.port.js", {"00", "leading zero"}},
      {"long-zeros.tcp.000000000000001.port.js", {"leading zero"}},
      {"plus.tcp.+7000.port.js", {"+7000", "decimal"}},
      {"minus.tcp.-1.port.js", {"-1", "decimal"}},
      {"hexport.tcp.0x1F.port.js", {"0x1F", "decimal"}},
      {"exp.tcp.7e3.port.js", {"7e3", "decimal"}},
      {"space.tcp. 7000.port.js", {"decimal"}},
      {"word.tcp.http.port.js", {"http", "decimal"}},
      {"arabic.tcp.\xD9\xA7\xD9\xA0.port.js", {"decimal"}},
      {"noport.tcp..port.js", {"missing port"}},
      {"noport.udp.port.js", {"missing port", "udp"}},
      {"udp.port.js", {"<name>.<tcp|udp>.<port>.port.js"}},
      {"tcp.port.js", {"<name>.<tcp|udp>.<port>.port.js"}},
      {"x.port.js", {"<name>.<tcp|udp>.<port>.port.js"}},
      // Transport.
      {"stream.sctp.7000.port.js", {"sctp", "tcp or udp"}},
      {"upper.TCP.7000.port.js", {"TCP", "tcp or udp"}},
      {"none.7000.port.js", {"none", "tcp or udp"}},
      {"7000.port.js", {"<name>.<tcp|udp>.<port>.port.js"}},
      // Name.
      {"tcp.7000.port.js", {"empty", "name"}},
      {".tcp.7000.port.js", {"empty", "name"}},
      {".hidden.tcp.7000.port.js", {"hidden"}},
      {"..tcp.7000.port.js", {"hidden"}},
      {".#lockfile.tcp.7000.port.js", {"hidden"}},
      {"tab\there.tcp.7000.port.js", {"printable"}},
      {"nl\nhere.tcp.7000.port.js", {"printable"}},
      {"esc\x1B[31m.tcp.7000.port.js", {"printable"}},
      {"del\x7F.tcp.7000.port.js", {"printable"}},
      {"nul\0here.tcp.7000.port.js"s, {"printable"}},
      {"bad\xFFutf8.tcp.7000.port.js", {"printable"}},
      {"cut\xC3.tcp.7000.port.js", {"printable"}},
      {"cont\x80only.tcp.7000.port.js", {"printable"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    auto verdict = classify_filename(c.file);
    REQUIRE(kind_name(verdict.kind) == "invalid");
    CAPTURE(verdict.reason);
    for (const auto& word : c.reason_mentions) {
      CHECK(lower(verdict.reason).find(lower(word)) != std::string::npos);
    }
    CHECK(verdict.handler.name.empty());
  }
}

TEST_CASE("names that are not valid UTF-8 are invalid") {
  const std::vector<std::string> files = {
      "overlong\xC0\xAF.tcp.7000.port.js",        // overlong '/'
      "overlong\xE0\x80\xAF.tcp.7000.port.js",    // overlong three-byte '/'
      "overlong\xF0\x80\x80\xAF.tcp.7000.port.js",  // overlong four-byte '/'
      "surrogate\xED\xA0\x80.tcp.7000.port.js",   // U+D800 encoded in UTF-8
      "toobig\xF4\x90\x80\x80.tcp.7000.port.js",  // U+110000
      "toobig\xF5\x80\x80\x80.tcp.7000.port.js",  // F5 lead byte
  };
  for (const auto& file : files) {
    CAPTURE(file);
    auto verdict = classify_filename(file);
    CHECK(kind_name(verdict.kind) == "invalid");
    CHECK(verdict.reason.find("printable UTF-8") != std::string::npos);
  }
}

TEST_CASE("names containing C1 control characters are invalid") {
  const std::vector<std::string> files = {
      "c1\xC2\x80.tcp.7000.port.js",  // U+0080
      "c1\xC2\x85.tcp.7000.port.js",  // U+0085 NEXT LINE
      "c1\xC2\x9B.tcp.7000.port.js",  // U+009B CONTROL SEQUENCE INTRODUCER
  };
  for (const auto& file : files) {
    CAPTURE(file);
    auto verdict = classify_filename(file);
    CHECK(kind_name(verdict.kind) == "invalid");
    CHECK(verdict.reason.find("printable") != std::string::npos);
  }
}

TEST_CASE("files that do not end in .port.js are not attempts") {
  const std::vector<std::string> files = {
      "",
      "README.md",
      "lib.js",
      "helpers.mjs",
      "echo.tcp.7000.js",
      "echo.tcp.7000.port",
      "echo.tcp.7000.port.json",  // a manifest
      "echo.port.json",
      "echo.tcp.7000.port.js.swp",  // vim swap file
      ".echo.tcp.7000.port.js.swp",
      "echo.tcp.7000.port.js~",  // editor backup
      "#echo.tcp.7000.port.js#",  // emacs autosave
      "echo.tcp.7000.port.js.bak",
      "echo.tcp.7000.port.jsx",
      "echo.tcp.7000.PORT.JS",
      "echo.tcp.7000port.js",
      "port.js",
  };
  for (const auto& file : files) {
    CAPTURE(file);
    auto verdict = classify_filename(file);
    CHECK(kind_name(verdict.kind) == "not_an_attempt");
    CHECK(verdict.reason.empty());
    CHECK(verdict.handler.name.empty());
  }
}

TEST_CASE("every port from 1 to 65535 is accepted in canonical form") {
  for (uint32_t port = 1; port <= 65535; ++port) {
    auto verdict = classify_filename("p.udp." + std::to_string(port) + ".port.js");
    if (verdict.kind != Kind::entry_point || verdict.handler.port != port) {
      FAIL("port " << port << " was not accepted: " << verdict.reason);
    }
  }
}
