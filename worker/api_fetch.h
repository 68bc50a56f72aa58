#pragma once
// The native side of fetch() (worker/js/fetch.js): each request asks the
// broker for a connection to its URL's host and port (the handler's
// `connect` policy, limits and counts, as net.connect), then runs one
// HTTP/1.1 or HTTPS transfer over that socket with libcurl
// (worker/http_transfers.h).
//
// JavaScript: native.fetchStart(host, port, requestJson) → id (0: too many
// at once); native.fetchWrite(id, bytes | null) gives the request body when
// asked; native.fetchPause(id, paused) holds or releases the response body;
// native.fetchAbort(id) ends it. Everything else arrives through the
// fetchEvent(id, kind, ...) hook: "connect-failed" (code), "headers"
// (status, statusText, [name, value, ...]), "data" (ArrayBuffer), "pull",
// "done" (code, message; code "" when complete).

#include <jsapi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "worker/http_transfers.h"

namespace worker {

class Runtime;

class FetchBinding {
 public:
  FetchBinding(Runtime& runtime, std::unique_ptr<CurlMulti> multi);
  FetchBinding(const FetchBinding&) = delete;
  FetchBinding& operator=(const FetchBinding&) = delete;

  static bool install(JSContext* cx, JS::HandleObject native);

 private:
  // Fetches waiting for the broker's socket, and those under way; bounded
  // as the other egress requests are.
  static constexpr size_t kMaxFetches = 4096;

  static bool native_start(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_write(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_pause(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_abort(JSContext* cx, unsigned argc, JS::Value* vp);

  void connected(uint32_t id, const std::string& code, const std::string& address, common::UniqueFd socket);
  void deliver(HttpEvent& event);

  Runtime& runtime_;
  HttpTransfers transfers_;
  // Waiting for their socket: the request to start once it comes. An
  // aborted one stays until the answer, whose socket is then closed.
  std::map<uint32_t, HttpRequest> connecting_;
  uint32_t next_id_ = 1;
};

}  // namespace worker
