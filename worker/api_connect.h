#pragma once
// Outbound connections and name lookups for handler code (node:net connect,
// node:dns lookup; docs/egress.md). The worker has no network: it asks the
// supervisor over its channel, which checks the handler's policy, resolves
// and connects, and answers with a connected socket or an error code. The
// socket becomes a TcpBinding connection like a handed-off one.
//
// JavaScript: native.egressConnect(host, port) and native.egressLookup(host,
// family) return a request id (0: too many outstanding); the answers arrive
// through the egressConnected(requestId, connectionId, code, address, port,
// family) → socket and egressLookupDone(requestId, code, addresses) hooks.
// native.tlsConnect(connectionId, optionsJson) starts client TLS on such a
// connection (tls.connect; worker/tls_client.h) and returns "" or why not.

#include <jsapi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "common/unique_fd.h"
#include "ipc/messages.h"
#include "worker/tls_client.h"

namespace worker {

class Runtime;

class EgressBinding {
 public:
  explicit EgressBinding(Runtime& runtime) : runtime_(runtime) {}
  EgressBinding(const EgressBinding&) = delete;
  EgressBinding& operator=(const EgressBinding&) = delete;

  static bool install(JSContext* cx, JS::HandleObject native);

  void on_connected(const ipc::EgressConnected& answer, std::vector<common::UniqueFd>& fds);

  // A connect for native code (fetch's transfers, worker/api_fetch.h): the
  // same request to the supervisor, same policy and limits, but the answer
  // (the socket, or the error code) goes to `done` instead of JavaScript.
  // Returns false when too many requests are outstanding.
  using NativeConnectDone = std::function<void(const ipc::EgressConnected& answer, common::UniqueFd socket)>;
  bool connect_native(const std::string& host, uint16_t port, NativeConnectDone done);
  void on_lookup_result(const ipc::EgressLookupResult& answer);

 private:
  // Requests waiting for an answer, each kind bounded: the supervisor
  // refuses beyond the handler's limits anyway, and this keeps a runaway
  // loop from filling the channel.
  static constexpr size_t kMaxOutstanding = 4096;

  uint32_t next_request_id();

  static bool native_connect(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_lookup(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_tls_connect(JSContext* cx, unsigned argc, JS::Value* vp);

  Runtime& runtime_;
  uint32_t next_request_ = 1;
  std::set<uint32_t> connects_;
  std::map<uint32_t, NativeConnectDone> native_connects_;
  std::set<uint32_t> lookups_;
  TlsClientContexts tls_contexts_;
};

}  // namespace worker
