#include "ipc/messages.h"

#include <doctest/doctest.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "ipc/channel.h"

using common::SocketAddress;
using ipc::ConnectionHandoff;
using ipc::DatagramBatch;
using ipc::kMaxMessageBytes;
using ipc::MessageType;
using ipc::WorkerFailed;
using ipc::WorkerInit;
using ipc::WorkerStop;
using Bytes = std::vector<uint8_t>;

namespace {

// Offsets fixed by the wire layout in messages.cc.
constexpr size_t kTypeBytes = 2;
constexpr size_t kBatchHeaderBytes = kTypeBytes + 4;       // type, count
constexpr size_t kAddressBytes = 1 + 16 + 2;               // family, address, port
constexpr size_t kDatagramOverhead = kAddressBytes + 4;    // + payload length
constexpr size_t kHandoffRemoteFamily = kTypeBytes + 8;    // after type and id

SocketAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return SocketAddress::from_parts(AF_INET, {a, b, c, d}, port);
}

SocketAddress v6(std::array<uint8_t, 16> bytes, uint16_t port) {
  return SocketAddress::from_parts(AF_INET6, bytes, port);
}

const SocketAddress kLoopback4 = v4(127, 0, 0, 1, 7000);
const SocketAddress kPeer4 = v4(203, 0, 113, 9, 54321);
const SocketAddress kLoopback6 = v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 7000);
const SocketAddress kPeer6 = v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}, 65535);
const SocketAddress kMapped = v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, 1);

bool same_address(const SocketAddress& x, const SocketAddress& y) {
  return x.valid() && y.valid() && x.family() == y.family() && x.bytes() == y.bytes() && x.port() == y.port();
}

Bytes pattern(size_t size, uint8_t seed) {
  Bytes bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return bytes;
}

WorkerInit sample_init() {
  WorkerInit init;
  init.handler_name = "echo";
  init.module_file = "echo.tcp.7000.port.js";
  init.handlers_dir = "/etc/portbroker/handlers";
  init.transport = "tcp";
  init.port = 7000;
  init.log_level = "debug";
  init.open_timeout_ms = 10000;
  init.sandbox = true;
  init.uid = 65534;
  init.gid = 65533;
  init.outer_uid = 1000;
  init.outer_gid = 1001;
  init.open_files = 4096;
  init.processes = 16384;
  init.address_space_bytes = uint64_t{16} << 30;
  init.heap_bytes = uint64_t{512} << 20;
  init.memory_bytes = uint64_t{1} << 30;
  init.cpu_limit_ms = 10000;
  init.http_client = true;
  return init;
}

ConnectionHandoff sample_handoff() { return {42, kPeer6, {}}; }

// A connection through a trusted balancer, with every PROXY field set.
ConnectionHandoff sample_proxied_handoff() {
  ipc::ProxyInfo proxy;
  proxy.version = 2;
  proxy.balancer = kLoopback4;
  proxy.destination = kLoopback6;
  proxy.authority = "api.example.com";
  proxy.alpn = "h2";
  proxy.unique_id = {0x00, 0xFF, 0x42};
  proxy.ssl = ipc::ProxySsl{true, true, "TLSv1.3", "client.example"};
  return {43, kPeer4, proxy};
}

ipc::WorkerSandbox sample_sandbox() {
  ipc::WorkerSandbox report;
  report.confined = true;
  report.uid = 999;
  report.gid = 998;
  report.namespaces = {"user", "mnt", "net"};
  report.minimal_root = true;
  report.seccomp = true;
  report.no_new_privs = true;
  report.no_capabilities = true;
  report.open_files = 4096;
  report.processes = 16384;
  report.address_space_bytes = uint64_t{16} << 30;
  report.missing = {"capability bounding set: cannot be emptied"};
  report.notes = {"hostname not set"};
  return report;
}

ipc::TlsStats sample_tls_stats() { return {12, {{"timeout", 2}, {"protocol", 1}}}; }
ipc::TlsCertificateRequest sample_certificate_request() {
  return {"www.example.com", "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"};
}
ipc::TlsCertificate sample_certificate() { return {"www.example.com", "-----BEGIN CERTIFICATE-----\n", "", false}; }

// Every encoded message type, with a decoder for each: used to check that each
// decoder accepts its own type only and rejects truncation and trailing bytes.
struct Encoded {
  const char* label;
  MessageType type;
  Bytes bytes;
};

std::vector<Encoded> all_messages() {
  return {
      {"WorkerInit", MessageType::worker_init, ipc::encode(sample_init())},
      {"ConnectionHandoff", MessageType::connection, ipc::encode(sample_handoff())},
      {"ConnectionHandoff through a balancer", MessageType::connection, ipc::encode(sample_proxied_handoff())},
      {"WorkerStop", MessageType::worker_stop, ipc::encode(WorkerStop{5000, 2500})},
      {"WorkerFailed", MessageType::worker_failed, ipc::encode(WorkerFailed{"no handle export", {}})},
      {"worker ready", MessageType::worker_ready, ipc::encode(ipc::WorkerReady{R"({"allow":["10.0.0.0/8"]})", {{"echo.tcp.7000.port.js", "1:2:3:4:5"}}})},
      {"WorkerSandbox", MessageType::worker_sandbox, ipc::encode(sample_sandbox())},
      {"TlsStats", MessageType::tls_stats, ipc::encode(sample_tls_stats())},
      {"TlsCertificateRequest", MessageType::tls_certificate_request, ipc::encode(sample_certificate_request())},
      {"TlsCertificate", MessageType::tls_certificate, ipc::encode(sample_certificate())},
      {"StoreReconnect", MessageType::store_reconnect, ipc::encode(ipc::StoreReconnect{})},
      {"ModulesLoaded", MessageType::modules_loaded, ipc::encode(ipc::ModulesLoaded{{{"lib/late.js", "1:2:3:4:5"}}})},
  };
}

struct Decoder {
  const char* label;
  MessageType type;
  std::function<bool(std::span<const uint8_t>)> decode;
};

const std::vector<Decoder>& all_decoders() {
  static const std::vector<Decoder> decoders = {
      {"WorkerInit", MessageType::worker_init, [](std::span<const uint8_t> m) { WorkerInit out; return ipc::decode(m, out); }},
      {"ConnectionHandoff", MessageType::connection,
       [](std::span<const uint8_t> m) { ConnectionHandoff out; return ipc::decode(m, out); }},
      {"WorkerStop", MessageType::worker_stop, [](std::span<const uint8_t> m) { WorkerStop out; return ipc::decode(m, out); }},
      {"WorkerFailed", MessageType::worker_failed,
       [](std::span<const uint8_t> m) { WorkerFailed out; return ipc::decode(m, out); }},
      {"WorkerReady", MessageType::worker_ready,
       [](std::span<const uint8_t> m) { ipc::WorkerReady out; return ipc::decode(m, out); }},
      {"WorkerSandbox", MessageType::worker_sandbox,
       [](std::span<const uint8_t> m) { ipc::WorkerSandbox out; return ipc::decode(m, out); }},
      {"TlsStats", MessageType::tls_stats, [](std::span<const uint8_t> m) { ipc::TlsStats out; return ipc::decode(m, out); }},
      {"TlsCertificateRequest", MessageType::tls_certificate_request,
       [](std::span<const uint8_t> m) { ipc::TlsCertificateRequest out; return ipc::decode(m, out); }},
      {"TlsCertificate", MessageType::tls_certificate,
       [](std::span<const uint8_t> m) { ipc::TlsCertificate out; return ipc::decode(m, out); }},
      {"StoreReconnect", MessageType::store_reconnect,
       [](std::span<const uint8_t> m) { ipc::StoreReconnect out; return ipc::decode(m, out); }},
      {"ModulesLoaded", MessageType::modules_loaded,
       [](std::span<const uint8_t> m) { ipc::ModulesLoaded out; return ipc::decode(m, out); }},
  };
  return decoders;
}

struct Visited {
  SocketAddress peer;
  Bytes payload;
};

// Runs for_each_datagram, collecting what it visits.
bool collect(std::span<const uint8_t> message, MessageType type, std::vector<Visited>& visited) {
  return ipc::for_each_datagram(message, type, [&](const SocketAddress& peer, std::span<const uint8_t> payload) {
    visited.push_back({peer, Bytes(payload.begin(), payload.end())});
  });
}

Bytes copy(std::span<const uint8_t> bytes) { return {bytes.begin(), bytes.end()}; }

template <typename T>
void patch(Bytes& bytes, size_t offset, T value) {
  REQUIRE(offset + sizeof value <= bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

}  // namespace

TEST_CASE("peek_type reads the leading type of every message") {
  for (const auto& m : all_messages()) {
    CAPTURE(std::string(m.label));
    auto type = ipc::peek_type(m.bytes);
    REQUIRE(type.has_value());
    CHECK(*type == m.type);
  }
  CHECK(ipc::peek_type(DatagramBatch(MessageType::replies).bytes()) == MessageType::replies);
  CHECK_FALSE(ipc::peek_type({}).has_value());
  const uint8_t one_byte[] = {1};
  CHECK_FALSE(ipc::peek_type(one_byte).has_value());
}

TEST_CASE("WorkerInit round-trips every field") {
  SUBCASE("typical") {
    WorkerInit in = sample_init();
    WorkerInit out;
    REQUIRE(ipc::decode(ipc::encode(in), out));
    CHECK(out.handler_name == in.handler_name);
    CHECK(out.module_file == in.module_file);
    CHECK(out.handlers_dir == in.handlers_dir);
    CHECK(out.transport == in.transport);
    CHECK(out.port == in.port);
    CHECK(out.log_level == in.log_level);
    CHECK(out.open_timeout_ms == in.open_timeout_ms);
    CHECK(out.sandbox == in.sandbox);
    CHECK(out.uid == in.uid);
    CHECK(out.gid == in.gid);
    CHECK(out.outer_uid == in.outer_uid);
    CHECK(out.outer_gid == in.outer_gid);
    CHECK(out.open_files == in.open_files);
    CHECK(out.processes == in.processes);
    CHECK(out.address_space_bytes == in.address_space_bytes);
    CHECK(out.heap_bytes == in.heap_bytes);
    CHECK(out.memory_bytes == in.memory_bytes);
    CHECK(out.cpu_limit_ms == in.cpu_limit_ms);
    CHECK(out.http_client == in.http_client);
  }
  SUBCASE("empty strings, extremes, bytes that are not text") {
    WorkerInit in;
    in.handler_name = std::string("caf\xC3\xA9\0x", 7);
    in.module_file = "";
    in.handlers_dir = std::string(5000, 'd');
    in.transport = "udp";
    in.port = 65535;
    in.log_level = "";
    in.open_timeout_ms = std::numeric_limits<uint32_t>::max();
    WorkerInit out = sample_init();
    REQUIRE(ipc::decode(ipc::encode(in), out));
    CHECK(out.handler_name == in.handler_name);
    CHECK(out.module_file.empty());
    CHECK(out.handlers_dir == in.handlers_dir);
    CHECK(out.transport == "udp");
    CHECK(out.port == 65535);
    CHECK(out.log_level.empty());
    CHECK(out.open_timeout_ms == std::numeric_limits<uint32_t>::max());
  }
}

TEST_CASE("ConnectionHandoff round-trips id and IPv4 / IPv6 addresses") {
  struct Case {
    const char* label;
    ConnectionHandoff in;
    const char* remote_text;
  };
  const std::vector<Case> cases = {
      {"IPv4", {1, kPeer4, {}}, "203.0.113.9:54321"},
      {"IPv6", {2, kPeer6, {}}, "[2001:db8::dead:beef]:65535"},
      {"IPv4-mapped IPv6", {3, kMapped, {}}, "[::ffff:1.2.3.4]:1"},
      {"largest id", {std::numeric_limits<uint64_t>::max(), kPeer6, {}}, "[2001:db8::dead:beef]:65535"},
      {"port 0", {0, v4(0, 0, 0, 0, 0), {}}, "0.0.0.0:0"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    ConnectionHandoff out;
    REQUIRE(ipc::decode(ipc::encode(c.in), out));
    CHECK(out.id == c.in.id);
    CHECK(same_address(out.remote, c.in.remote));
    CHECK(out.remote.to_string() == c.remote_text);
  }
}

TEST_CASE("WorkerStop, WorkerFailed and worker ready round-trip") {
  SUBCASE("WorkerStop") {
    const std::vector<std::pair<uint32_t, uint32_t>> cases = {{0, 0}, {5000, 2500}, {UINT32_MAX, 1}};
    for (auto [close_ms, drain_ms] : cases) {
      WorkerStop out;
      REQUIRE(ipc::decode(ipc::encode(WorkerStop{close_ms, drain_ms}), out));
      CHECK(out.close_timeout_ms == close_ms);
      CHECK(out.drain_timeout_ms == drain_ms);
    }
  }
  SUBCASE("WorkerFailed") {
    for (const std::string& reason : {std::string(), std::string("SyntaxError: unexpected token at echo.js:3"),
                                      std::string(100000, 'r')}) {
      WorkerFailed out{"stale", {{"stale", "0"}}};
      std::vector<ipc::ModuleFile> tried = {{"echo.tcp.7000.port.js", "1:2:3:4:5"}, {"lib/missing.js", ""}};
      REQUIRE(ipc::decode(ipc::encode(WorkerFailed{reason, tried}), out));
      CHECK(out.reason == reason.substr(0, ipc::kMaxFailureReasonBytes));
      CHECK(out.modules == tried);
    }
  }
  SUBCASE("WorkerReady carries the access export's JSON and the files loaded") {
    std::vector<ipc::ModuleFile> modules = {{"echo.tcp.7000.port.js", "2049:131:412:1700000000000000000:1700000000000000001"},
                                            {"lib/util.js", "2049:140:90:1:2"}};
    for (const std::string& access : {std::string(), std::string(R"({"allow":["10.0.0.0/8"],"maxConnections":5})")}) {
      for (const auto& files : {std::vector<ipc::ModuleFile>{}, modules}) {
        ipc::WorkerReady out{"stale", {{"stale", "0"}}};
        REQUIRE(ipc::decode(ipc::encode(ipc::WorkerReady{access, files}), out));
        CHECK(out.access_json == access);
        CHECK(out.modules == files);
        CHECK(ipc::peek_type(ipc::encode(ipc::WorkerReady{access, files})) == MessageType::worker_ready);
      }
    }
  }
  SUBCASE("WorkerReady with a module count beyond its size is malformed") {
    auto bytes = ipc::encode(ipc::WorkerReady{"", {}});
    uint32_t huge = 0x7fffffff;
    std::memcpy(bytes.data() + bytes.size() - sizeof huge, &huge, sizeof huge);
    ipc::WorkerReady out;
    CHECK_FALSE(ipc::decode(bytes, out));
  }
  SUBCASE("module paths a worker reports must stay inside the handlers folder") {
    for (const std::string& path : {std::string(), std::string("/etc/shadow"), std::string("../outside.js"),
                                    std::string("lib/../../x.js"), std::string("lib//x.js"), std::string("./x.js"),
                                    std::string("lib/"), std::string("a\0b", 3), std::string(5000, 'a')}) {
      CAPTURE(path);
      ipc::WorkerReady ready;
      CHECK_FALSE(ipc::decode(ipc::encode(ipc::WorkerReady{"", {{path, "1:2:3:4:5"}}}), ready));
      WorkerFailed failed;
      CHECK_FALSE(ipc::decode(ipc::encode(WorkerFailed{"broken", {{path, ""}}}), failed));
    }
    ipc::WorkerReady ready;
    CHECK(ipc::decode(ipc::encode(ipc::WorkerReady{"", {{"lib/.hidden/x.js", ""}}}), ready));
  }
  SUBCASE("more modules than a worker may report is malformed") {
    std::vector<ipc::ModuleFile> many(ipc::kMaxReportedModules + 1, ipc::ModuleFile{"a.js", ""});
    ipc::WorkerReady out;
    CHECK_FALSE(ipc::decode(ipc::encode(ipc::WorkerReady{"", many}), out));
  }
}

TEST_CASE("each decoder rejects every other message type") {
  for (const auto& m : all_messages()) {
    for (const auto& d : all_decoders()) {
      CAPTURE(std::string(m.label));
      CAPTURE(std::string(d.label));
      CHECK(d.decode(m.bytes) == (m.type == d.type));
    }
  }
  // Datagram batches are not any of the single messages either.
  DatagramBatch batch(MessageType::datagrams);
  for (const auto& d : all_decoders()) {
    CAPTURE(std::string(d.label));
    CHECK_FALSE(d.decode(batch.bytes()));
  }
}

TEST_CASE("decoders reject a message truncated at every length") {
  for (const auto& m : all_messages()) {
    for (const auto& d : all_decoders()) {
      if (d.type != m.type) continue;
      CAPTURE(std::string(m.label));
      REQUIRE(d.decode(m.bytes));
      for (size_t length = 0; length < m.bytes.size(); ++length) {
        CAPTURE(length);
        CHECK_FALSE(d.decode(std::span(m.bytes).first(length)));
      }
    }
  }
}

TEST_CASE("decoders reject trailing bytes") {
  for (const auto& m : all_messages()) {
    for (const auto& d : all_decoders()) {
      if (d.type != m.type) continue;
      CAPTURE(std::string(m.label));
      for (size_t extra : {1, 2, 100}) {
        CAPTURE(extra);
        Bytes longer = m.bytes;
        longer.resize(longer.size() + extra, 0);
        CHECK_FALSE(d.decode(longer));
      }
    }
  }
}

TEST_CASE("ConnectionHandoff with an unknown address family is rejected") {
  for (uint8_t family : {0, 1, 5, 10, 255}) {
    CAPTURE(static_cast<int>(family));
    Bytes bytes = ipc::encode(sample_handoff());
    REQUIRE(bytes[kHandoffRemoteFamily] == 6);
    bytes[kHandoffRemoteFamily] = family;
    ConnectionHandoff out;
    CHECK_FALSE(ipc::decode(bytes, out));
  }
}

TEST_CASE("a string length larger than the message is rejected, not read past") {
  Bytes bytes = ipc::encode(WorkerFailed{"abc", {}});
  for (uint32_t length : {4u, 1000u, UINT32_MAX}) {
    CAPTURE(length);
    patch(bytes, kTypeBytes, length);
    WorkerFailed out;
    CHECK_FALSE(ipc::decode(bytes, out));
  }
}

TEST_CASE("put_address and get_address round-trip through the wire") {
  for (const auto& address : {kLoopback4, kPeer4, kLoopback6, kPeer6, kMapped}) {
    CAPTURE(address.to_string());
    ipc::WireWriter writer;
    ipc::put_address(writer, address);
    CHECK(writer.size() == kAddressBytes);
    ipc::WireReader reader(writer.bytes());
    auto decoded = ipc::get_address(reader);
    CHECK(reader.ok());
    CHECK(reader.at_end());
    CHECK(same_address(decoded, address));
  }
  ipc::WireWriter writer;
  ipc::put_address(writer, kPeer4);
  ipc::WireReader short_reader(writer.bytes().first(kAddressBytes - 1));
  CHECK_FALSE(ipc::get_address(short_reader).valid());
  CHECK_FALSE(short_reader.ok());
}

TEST_CASE("an empty datagram batch holds no datagrams") {
  DatagramBatch batch(MessageType::datagrams);
  CHECK(batch.empty());
  CHECK(batch.count() == 0);
  CHECK(batch.bytes().size() == kBatchHeaderBytes);
  std::vector<Visited> visited;
  CHECK(collect(batch.bytes(), MessageType::datagrams, visited));
  CHECK(visited.empty());
}

TEST_CASE("datagram batches round-trip peers and payloads, including empty and maximal UDP payloads") {
  const std::vector<std::pair<SocketAddress, Bytes>> datagrams = {
      {kPeer4, pattern(5, 1)},
      {kPeer6, {}},
      {kMapped, pattern(1, 2)},
      {kLoopback4, pattern(65507, 3)},  // the largest IPv4 UDP payload
      {kLoopback6, pattern(1200, 4)},
  };
  for (MessageType type : {MessageType::datagrams, MessageType::replies}) {
    CAPTURE(static_cast<int>(type));
    DatagramBatch batch(type);
    for (const auto& [peer, payload] : datagrams) REQUIRE(batch.add(peer, payload));
    CHECK(batch.count() == datagrams.size());
    CHECK_FALSE(batch.empty());
    CHECK(ipc::peek_type(batch.bytes()) == type);

    std::vector<Visited> visited;
    REQUIRE(collect(batch.bytes(), type, visited));
    REQUIRE(visited.size() == datagrams.size());
    for (size_t i = 0; i < datagrams.size(); ++i) {
      CAPTURE(i);
      CHECK(same_address(visited[i].peer, datagrams[i].first));
      CHECK(visited[i].payload == datagrams[i].second);
    }
  }
}

TEST_CASE("for_each_datagram rejects a batch of the other type") {
  DatagramBatch batch(MessageType::datagrams);
  REQUIRE(batch.add(kPeer4, pattern(3, 1)));
  std::vector<Visited> visited;
  CHECK_FALSE(collect(batch.bytes(), MessageType::replies, visited));
  CHECK(visited.empty());
  CHECK_FALSE(collect(ipc::encode(ipc::WorkerReady{R"({"allow":["10.0.0.0/8"]})", {{"echo.tcp.7000.port.js", "1:2:3:4:5"}}}), MessageType::replies, visited));
  CHECK_FALSE(collect({}, MessageType::datagrams, visited));
}

TEST_CASE("clear() empties a batch for reuse") {
  DatagramBatch batch(MessageType::replies);
  REQUIRE(batch.add(kPeer4, pattern(100, 1)));
  REQUIRE(batch.add(kPeer6, pattern(100, 2)));
  batch.clear();
  CHECK(batch.empty());
  CHECK(batch.bytes().size() == kBatchHeaderBytes);
  CHECK(ipc::peek_type(batch.bytes()) == MessageType::replies);
  REQUIRE(batch.add(kLoopback4, pattern(3, 3)));
  std::vector<Visited> visited;
  REQUIRE(collect(batch.bytes(), MessageType::replies, visited));
  REQUIRE(visited.size() == 1);
  CHECK(visited[0].payload == pattern(3, 3));
}

TEST_CASE("a batch fills up to kMaxMessageBytes and a refused add leaves it unchanged") {
  SUBCASE("many small datagrams") {
    DatagramBatch batch(MessageType::datagrams);
    const Bytes payload = pattern(1000, 5);
    uint32_t added = 0;
    while (batch.add(kPeer6, payload)) {
      ++added;
      REQUIRE(added < 1000);  // bounded
    }
    CHECK(batch.count() == added);
    CHECK(added == (kMaxMessageBytes - kBatchHeaderBytes) / (kDatagramOverhead + payload.size()));
    CHECK(batch.bytes().size() <= kMaxMessageBytes);
    CHECK(batch.bytes().size() + kDatagramOverhead + payload.size() > kMaxMessageBytes);

    Bytes before = copy(batch.bytes());
    CHECK_FALSE(batch.add(kPeer6, payload));
    CHECK(batch.count() == added);
    CHECK(copy(batch.bytes()) == before);

    std::vector<Visited> visited;
    REQUIRE(collect(batch.bytes(), MessageType::datagrams, visited));
    CHECK(visited.size() == added);
  }
  SUBCASE("one datagram filling the message exactly") {
    DatagramBatch batch(MessageType::replies);
    const Bytes payload = pattern(kMaxMessageBytes - kBatchHeaderBytes - kDatagramOverhead, 6);
    REQUIRE(batch.add(kPeer4, payload));
    CHECK(batch.bytes().size() == kMaxMessageBytes);
    Bytes before = copy(batch.bytes());
    CHECK_FALSE(batch.add(kPeer4, {}));
    CHECK(batch.count() == 1);
    CHECK(copy(batch.bytes()) == before);

    // A full batch is still a message the channel accepts.
    common::UniqueFd a, b;
    REQUIRE(ipc::make_channel_pair(a, b));
    REQUIRE(ipc::send_message(a.get(), batch.bytes()) == ipc::IoResult::ok);
    ipc::ReceivedMessage received;
    REQUIRE(ipc::receive_message(b.get(), received) == ipc::IoResult::ok);
    std::vector<Visited> visited;
    REQUIRE(collect(received.bytes(), MessageType::replies, visited));
    REQUIRE(visited.size() == 1);
    CHECK(visited[0].payload == payload);
  }
  SUBCASE("one byte too many is refused") {
    DatagramBatch batch(MessageType::replies);
    CHECK_FALSE(batch.add(kPeer4, pattern(kMaxMessageBytes - kBatchHeaderBytes - kDatagramOverhead + 1, 7)));
    CHECK(batch.empty());
    CHECK(batch.bytes().size() == kBatchHeaderBytes);
  }
}

TEST_CASE("malformed datagram batches are rejected") {
  DatagramBatch batch(MessageType::datagrams);
  REQUIRE(batch.add(kPeer4, pattern(10, 1)));
  REQUIRE(batch.add(kPeer6, pattern(20, 2)));
  const Bytes good = copy(batch.bytes());
  const size_t second_family = kBatchHeaderBytes + kDatagramOverhead + 10;
  REQUIRE(good[kBatchHeaderBytes] == 4);
  REQUIRE(good[second_family] == 6);

  SUBCASE("count larger than the content") {
    for (uint32_t count : {3u, 4u, 1000u, UINT32_MAX}) {
      CAPTURE(count);
      Bytes bytes = good;
      patch(bytes, kTypeBytes, count);
      std::vector<Visited> visited;
      CHECK_FALSE(collect(bytes, MessageType::datagrams, visited));
      CHECK(visited.size() == 2);  // the datagrams before the error were visited
    }
  }
  SUBCASE("count smaller than the content") {
    for (uint32_t count : {0u, 1u}) {
      CAPTURE(count);
      Bytes bytes = good;
      patch(bytes, kTypeBytes, count);
      std::vector<Visited> visited;
      CHECK_FALSE(collect(bytes, MessageType::datagrams, visited));
    }
  }
  SUBCASE("bad address family") {
    for (uint8_t family : {0, 2, 5, 10, 255}) {
      CAPTURE(static_cast<int>(family));
      Bytes bytes = good;
      bytes[second_family] = family;
      std::vector<Visited> visited;
      CHECK_FALSE(collect(bytes, MessageType::datagrams, visited));
      CHECK(visited.size() == 1);
      bytes = good;
      bytes[kBatchHeaderBytes] = family;
      visited.clear();
      CHECK_FALSE(collect(bytes, MessageType::datagrams, visited));
      CHECK(visited.empty());
    }
  }
  SUBCASE("payload length beyond the message") {
    for (uint32_t length : {11u, 1000u, UINT32_MAX}) {
      CAPTURE(length);
      Bytes bytes = good;
      patch(bytes, kBatchHeaderBytes + kAddressBytes, length);
      std::vector<Visited> visited;
      CHECK_FALSE(collect(bytes, MessageType::datagrams, visited));
    }
  }
  SUBCASE("truncated at every length") {
    for (size_t length = 0; length < good.size(); ++length) {
      CAPTURE(length);
      std::vector<Visited> visited;
      CHECK_FALSE(collect(std::span(good).first(length), MessageType::datagrams, visited));
    }
  }
  SUBCASE("trailing bytes") {
    Bytes bytes = good;
    bytes.push_back(0);
    std::vector<Visited> visited;
    CHECK_FALSE(collect(bytes, MessageType::datagrams, visited));
  }
}

TEST_CASE("the typed worker reports round-trip every field") {
  ipc::WorkerSandbox sandbox;
  REQUIRE(ipc::decode(ipc::encode(sample_sandbox()), sandbox));
  CHECK(sandbox == sample_sandbox());
  ipc::TlsStats stats;
  REQUIRE(ipc::decode(ipc::encode(sample_tls_stats()), stats));
  CHECK(stats == sample_tls_stats());
  ipc::TlsCertificateRequest request;
  REQUIRE(ipc::decode(ipc::encode(sample_certificate_request()), request));
  CHECK(request == sample_certificate_request());
  ipc::TlsCertificate certificate;
  REQUIRE(ipc::decode(ipc::encode(sample_certificate()), certificate));
  CHECK(certificate == sample_certificate());
}

TEST_CASE("a JSON certificate request as workers once sent it is malformed, not a name of the wrong type") {
  // The audit's 36-byte message: {"name":1} as the request's text.
  Bytes bytes = {static_cast<uint8_t>(MessageType::tls_certificate_request), 0};
  std::string json = R"({"name":1})";
  uint32_t length = static_cast<uint32_t>(json.size());
  bytes.insert(bytes.end(), reinterpret_cast<uint8_t*>(&length), reinterpret_cast<uint8_t*>(&length) + 4);
  bytes.insert(bytes.end(), json.begin(), json.end());
  ipc::TlsCertificateRequest request;
  CHECK_FALSE(ipc::decode(bytes, request));
}

TEST_CASE("worker reports outside their bounds are malformed") {
  ipc::TlsCertificateRequest request;
  auto long_name = sample_certificate_request();
  long_name.name = std::string(ipc::kMaxTlsHostNameBytes + 1, 'a');
  CHECK_FALSE(ipc::decode(ipc::encode(long_name), request));
  auto control = sample_certificate_request();
  control.name = "a\nb";
  CHECK_FALSE(ipc::decode(ipc::encode(control), request));
  auto big_key = sample_certificate_request();
  big_key.public_key_pem = std::string(ipc::kMaxPublicKeyPemBytes + 1, 'k');
  CHECK_FALSE(ipc::decode(ipc::encode(big_key), request));
  auto no_key = sample_certificate_request();
  no_key.public_key_pem.clear();
  CHECK_FALSE(ipc::decode(ipc::encode(no_key), request));

  ipc::TlsStats stats;
  ipc::TlsStats many{1, {}};
  for (size_t i = 0; i <= ipc::kMaxReportEntries; ++i) many.failures.push_back({"reason" + std::to_string(i), 1});
  CHECK_FALSE(ipc::decode(ipc::encode(many), stats));
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::TlsStats{1, {{"same", 1}, {"same", 2}}}), stats));
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::TlsStats{1, {{"", 1}}}), stats));
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::TlsStats{1, {{std::string(ipc::kMaxTlsFailureReasonBytes + 1, 'r'), 1}}}), stats));

  ipc::WorkerSandbox sandbox;
  auto long_note = sample_sandbox();
  long_note.notes = {std::string(ipc::kMaxReportTextBytes + 1, 'n')};
  CHECK_FALSE(ipc::decode(ipc::encode(long_note), sandbox));
  auto many_notes = sample_sandbox();
  many_notes.notes.assign(ipc::kMaxReportEntries + 1, "note");
  CHECK_FALSE(ipc::decode(ipc::encode(many_notes), sandbox));
  // A boolean is 0 or 1, nothing else.
  Bytes odd = ipc::encode(sample_sandbox());
  odd[kTypeBytes] = 2;
  CHECK_FALSE(ipc::decode(odd, sandbox));

  // Encoding cuts a long reason to what decoding accepts.
  WorkerFailed failed;
  REQUIRE(ipc::decode(ipc::encode(WorkerFailed{std::string(ipc::kMaxFailureReasonBytes + 1, 'x'), {}}), failed));
  CHECK(failed.reason.size() == ipc::kMaxFailureReasonBytes);
}

TEST_CASE("the store relay's messages round-trip every field") {
  ipc::StoreBackend backend;
  backend.kind = ipc::StoreBackendKind::sentinel;
  backend.nodes = {{"10.0.0.1", 26379, ""}, {"sentinel.example", 26380, ""}};
  backend.master_name = "mymaster";
  backend.user = "pb";
  backend.password = "secret";
  backend.sentinel_user = "s";
  backend.sentinel_password = "s-secret";
  backend.database = 3;
  backend.prefix = "pb:";
  backend.timeout_ms = 2000;
  backend.tls = true;
  backend.tls_client_certificate = true;
  backend.tls_server_name = "redis.internal";
  ipc::StoreBackend backend_back;
  REQUIRE(ipc::decode(ipc::encode(backend), backend_back));
  CHECK(backend_back == backend);

  ipc::StoreBackend unix_socket;
  unix_socket.nodes = {{"", 0, "/run/redis.sock"}};
  unix_socket.timeout_ms = 1;
  REQUIRE(ipc::decode(ipc::encode(unix_socket), backend_back));
  CHECK(backend_back == unix_socket);

  for (const ipc::StoreDial& dial : {ipc::StoreDial{7, ipc::StoreDialTarget::node, 2, "", 0},
                                     ipc::StoreDial{8, ipc::StoreDialTarget::address, 0, "127.0.0.1", 6380}}) {
    ipc::StoreDial back;
    REQUIRE(ipc::decode(ipc::encode(dial), back));
    CHECK(back == dial);
  }
  ipc::StoreDialed dialed{9, "connection refused"};
  ipc::StoreDialed dialed_back;
  REQUIRE(ipc::decode(ipc::encode(dialed), dialed_back));
  CHECK(dialed_back == dialed);
  ipc::StoreBackendState state{ipc::StoreBackendStatus::down, 1700000000000, "127.0.0.1:6379", "refused", 2, 1};
  ipc::StoreBackendState state_back;
  REQUIRE(ipc::decode(ipc::encode(state), state_back));
  CHECK(state_back == state);
}

TEST_CASE("store relay messages outside their bounds are malformed") {
  ipc::StoreBackend backend;
  backend.nodes = {{"h", 1, ""}};
  backend.timeout_ms = 1;
  ipc::StoreBackend back;
  CHECK(ipc::decode(ipc::encode(backend), back));
  auto bad = backend;
  bad.nodes = {};  // a backend needs a node
  CHECK_FALSE(ipc::decode(ipc::encode(bad), back));
  bad = backend;
  bad.nodes = {{"h", 1, "/also/a/path"}};  // one form or the other
  CHECK_FALSE(ipc::decode(ipc::encode(bad), back));
  bad = backend;
  bad.nodes = {{"h", 0, ""}};  // a host needs its port
  CHECK_FALSE(ipc::decode(ipc::encode(bad), back));
  bad = backend;
  bad.nodes.push_back({"h2", 1, ""});  // one server, unless Sentinel
  CHECK_FALSE(ipc::decode(ipc::encode(bad), back));
  bad = backend;
  bad.kind = ipc::StoreBackendKind::sentinel;  // Sentinel needs the master's name
  CHECK_FALSE(ipc::decode(ipc::encode(bad), back));
  bad = backend;
  bad.password = std::string(ipc::kMaxStoreSecretBytes + 1, 'x');
  CHECK_FALSE(ipc::decode(ipc::encode(bad), back));
  bad = backend;
  bad.tls_client_certificate = true;  // a client certificate without TLS
  CHECK_FALSE(ipc::decode(ipc::encode(bad), back));

  ipc::StoreDial dial;
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::StoreDial{1, ipc::StoreDialTarget::node, 0, "h", 0}), dial));
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::StoreDial{1, ipc::StoreDialTarget::address, 0, "", 1}), dial));
  CHECK_FALSE(ipc::decode(ipc::encode(ipc::StoreDial{1, ipc::StoreDialTarget::address, 3, "h", 1}), dial));
  auto bytes = ipc::encode(ipc::StoreDial{1, ipc::StoreDialTarget::node, 0, "", 0});
  bytes[2 + 4] = 2;  // an unknown target
  CHECK_FALSE(ipc::decode(bytes, dial));

  ipc::StoreBackendState state;
  auto state_bytes = ipc::encode(ipc::StoreBackendState{});
  state_bytes[2] = 4;  // an unknown state
  CHECK_FALSE(ipc::decode(state_bytes, state));
  ipc::StoreBackendState long_error;
  long_error.error = std::string(ipc::kMaxStoreStateTextBytes + 1, 'e');
  CHECK_FALSE(ipc::decode(ipc::encode(long_error), state));
}

TEST_CASE("ConnectionHandoff carries what a trusted balancer's PROXY header said") {
  ConnectionHandoff in = sample_proxied_handoff();
  ConnectionHandoff out;
  REQUIRE(ipc::decode(ipc::encode(in), out));
  CHECK(out.id == 43);
  CHECK(same_address(out.remote, kPeer4));
  REQUIRE(out.proxy.has_value());
  CHECK(out.proxy->version == 2);
  CHECK(same_address(out.proxy->balancer, kLoopback4));
  CHECK(same_address(out.proxy->destination, kLoopback6));
  CHECK(out.proxy->authority == "api.example.com");
  CHECK(out.proxy->alpn == "h2");
  CHECK(out.proxy->unique_id == Bytes{0x00, 0xFF, 0x42});
  REQUIRE(out.proxy->ssl.has_value());
  CHECK(*out.proxy->ssl == ipc::ProxySsl{true, true, "TLSv1.3", "client.example"});

  // v1, or v2 without TLVs or a declared destination (UNSPEC, UNKNOWN).
  ipc::ProxyInfo bare;
  bare.version = 1;
  bare.balancer = kLoopback6;
  REQUIRE(ipc::decode(ipc::encode(ConnectionHandoff{7, kLoopback6, bare}), out));
  REQUIRE(out.proxy.has_value());
  CHECK(out.proxy->version == 1);
  CHECK_FALSE(out.proxy->destination.valid());
  CHECK(out.proxy->authority.empty());
  CHECK(out.proxy->unique_id.empty());
  CHECK_FALSE(out.proxy->ssl.has_value());

  // A direct connection after a proxied one leaves nothing behind.
  REQUIRE(ipc::decode(ipc::encode(sample_handoff()), out));
  CHECK_FALSE(out.proxy.has_value());
}

TEST_CASE("ConnectionHandoff's PROXY fields are bounded and canonical") {
  auto rejected = [](const std::function<void(ipc::ProxyInfo&)>& spoil) {
    ConnectionHandoff in = sample_proxied_handoff();
    spoil(*in.proxy);
    ConnectionHandoff out;
    return !ipc::decode(ipc::encode(in), out);
  };
  CHECK(rejected([](ipc::ProxyInfo& p) { p.version = 0; }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.version = 3; }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.balancer = {}; }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.authority.assign(ipc::kMaxProxyTextBytes + 1, 'a'); }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.alpn.assign(ipc::kMaxProxyTextBytes + 1, 'a'); }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.unique_id.assign(ipc::kMaxProxyUniqueIdBytes + 1, 1); }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.ssl->version.assign(ipc::kMaxProxyTextBytes + 1, 'a'); }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.ssl->common_name.assign(ipc::kMaxProxyTextBytes + 1, 'a'); }));
  CHECK(rejected([](ipc::ProxyInfo& p) { p.ssl->client_certificate = false; }));  // verified without one
  CHECK_FALSE(rejected([](ipc::ProxyInfo& p) {
    p.authority.assign(ipc::kMaxProxyTextBytes, 'a');
    p.unique_id.assign(ipc::kMaxProxyUniqueIdBytes, 1);
  }));

  // A presence flag other than 0 or 1 is malformed.
  Bytes bytes = ipc::encode(sample_handoff());
  REQUIRE(bytes.back() == 0);
  bytes.back() = 2;
  ConnectionHandoff out;
  CHECK_FALSE(ipc::decode(bytes, out));
}
