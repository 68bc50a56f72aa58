#pragma once
// The native side of `conn`: handed-off TCP sockets driven by libuv. JavaScript
// refers to a connection by a worker-local numeric id (native.tcpWrite(id, ...)),
// and the binding calls the host's tcp_* hooks with the JS socket object.

#include <jsapi.h>
#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

#include "common/unique_fd.h"
#include "ipc/messages.h"

namespace worker {

class Runtime;

class TcpBinding {
 public:
  explicit TcpBinding(Runtime& runtime);
  ~TcpBinding();
  TcpBinding(const TcpBinding&) = delete;
  TcpBinding& operator=(const TcpBinding&) = delete;

  static bool install(JSContext* cx, JS::HandleObject native);

  // A socket handed off by the supervisor: wraps it and calls the connection hook.
  void adopt(common::UniqueFd fd, const ipc::ConnectionHandoff& handoff);
  size_t open_connections() const { return connections_.size(); }
  // Closes every connection (drain deadline, shutdown).
  void close_all();

 private:
  struct Connection;
  struct WriteRequest;

  // Runs fn(self, connection, args) for the open connection args[0] names.
  template <typename Fn>
  static bool with_connection(JSContext* cx, unsigned argc, JS::Value* vp, JS::Value closed_result, Fn&& fn);

  Connection* find(uint32_t id);
  void close(Connection& connection);
  // Writes as much as the kernel takes now; queues the rest. Returns the bytes
  // still queued, or a negative libuv error.
  int64_t write(Connection& connection, std::span<const uint8_t> bytes);

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_shutdown(uv_shutdown_t* request, int status);
  static void on_close(uv_handle_t* handle);

  static bool native_write(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_shutdown(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_close(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_read_start(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_read_stop(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_set_no_delay(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_set_keep_alive(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_error_name(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_error_message(JSContext* cx, unsigned argc, JS::Value* vp);

  Runtime& runtime_;
  std::unordered_map<uint32_t, std::unique_ptr<Connection>> connections_;
  uint32_t next_id_ = 1;
  // One read buffer for all connections: each read is copied into its own
  // ArrayBuffer before the next read can happen.
  std::array<char, 64 * 1024> read_buffer_;
};

}  // namespace worker
