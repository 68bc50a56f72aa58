#pragma once
// HTTP/1.1 and HTTPS transfers for fetch(), on libcurl's multi interface
// driven by the worker's libuv loop. libcurl does the protocol (framing,
// chunked encoding, content decoding, TLS with OpenSSL); it never resolves a
// name and never connects: each transfer runs over the one socket the broker
// dialed for it (docs/egress.md), handed to libcurl as already connected,
// with the name pinned to the address the broker checked. One connection per
// transfer, never reused, so every request (and every redirect hop, which
// fetch.js follows itself) passes the broker's policy.
//
// Events are queued while libcurl runs and delivered after it returns, so
// the receiver (JavaScript) may start, abort or pause transfers from them.

#include <curl/curl.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace worker {

// The multi handle, made before the worker is confined: libcurl opens a
// socketpair for it, which the sandbox forbids afterwards. Made only where
// the manifest may connect (worker/curl_library.h).
class CurlMulti {
 public:
  // Loads libcurl if need be; null with `error` if it cannot.
  static std::unique_ptr<CurlMulti> create(std::string& error);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  CURLM* get() const { return multi_; }

 private:
  explicit CurlMulti(CURLM* multi) : multi_(multi) {}
  CURLM* multi_;
};

struct HttpRequest {
  std::string url;
  std::string method;                                       // upper case as sent
  std::vector<std::pair<std::string, std::string>> headers;  // in order
  bool has_body = false;
  int64_t body_length = -1;  // -1: unknown (chunked)
  std::string address;       // the broker's checked address, for the name in `url`
  uint16_t port = 0;
};

struct HttpEvent {
  // connect_failed comes from the broker's answer, before any transfer
  // (worker/api_fetch.h); the others from the transfer.
  enum class Kind { connect_failed, headers, data, body_wanted, done };
  HttpEvent(Kind event_kind, uint32_t transfer_id) : kind(event_kind), id(transfer_id) {}
  Kind kind;
  uint32_t id;
  // headers
  int status = 0;
  std::string status_text;
  std::vector<std::pair<std::string, std::string>> header_list;
  // data
  std::vector<uint8_t> bytes;
  // done: empty code when complete; otherwise a Node-style code and message
  std::string code;
  std::string message;
};

class HttpTransfers {
 public:
  HttpTransfers(uv_loop_t* loop, std::unique_ptr<CurlMulti> multi, std::function<void(HttpEvent&)> deliver);
  ~HttpTransfers();
  HttpTransfers(const HttpTransfers&) = delete;
  HttpTransfers& operator=(const HttpTransfers&) = delete;

  // Starts `request` as transfer `id` (the caller's, unused) over `socket`
  // (connected by the broker); false with `error`.
  bool start(uint32_t id, const HttpRequest& request, common::UniqueFd socket, std::string& error);
  // Request body: more bytes, or the end (`end`).
  void send_body(uint32_t id, std::span<const uint8_t> bytes, bool end);
  // Response body: hold (JavaScript's stream is full) or go on.
  void pause_response(uint32_t id, bool paused);
  // Ends the transfer without a done event (abort, a redirect followed).
  void abort(uint32_t id);
  size_t active() const { return transfers_.size(); }

 private:
  struct Transfer;
  struct Poll;

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* poll);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static size_t on_header(char* data, size_t size, size_t count, void* transfer);
  static size_t on_body(char* data, size_t size, size_t count, void* transfer);
  static size_t on_read(char* data, size_t size, size_t count, void* transfer);
  static curl_socket_t on_open_socket(void* transfer, curlsocktype purpose, curl_sockaddr* address);
  static int on_socket_options(void* transfer, curl_socket_t fd, curlsocktype purpose);
  static int on_close_socket(void* transfer, curl_socket_t fd);

  // Runs libcurl on `fd` (or its timeout), then collects finished
  // transfers and delivers what was queued.
  void drive(curl_socket_t fd, int events);
  void collect_finished();
  void deliver_queued();
  void remove(uint32_t id);
  void resume(Transfer& transfer);

  uv_loop_t* loop_;
  std::unique_ptr<CurlMulti> multi_;
  std::function<void(HttpEvent&)> deliver_;
  uv_timer_t* timer_;  // freed by its close callback
  std::map<uint32_t, std::unique_ptr<Transfer>> transfers_;
  std::deque<HttpEvent> queued_;
  bool delivering_ = false;
};

}  // namespace worker
