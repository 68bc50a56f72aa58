#pragma once
// The native side of ctx.shared: a RESP client on the two store connections the
// supervisor handed over (no filesystem path needed). Commands are pipelined
// on one connection and answered in order; subscriptions live on the other,
// since a RESP2 connection in subscribe mode accepts nothing else.

#include <jsapi.h>
#include <uv.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/resp.h"

namespace worker {

class Runtime;

class StoreBinding {
 public:
  explicit StoreBinding(Runtime& runtime);
  ~StoreBinding();
  StoreBinding(const StoreBinding&) = delete;
  StoreBinding& operator=(const StoreBinding&) = delete;

  static bool install(JSContext* cx, JS::HandleObject native);
  bool attach(common::UniqueFd command_fd, common::UniqueFd subscription_fd, std::string& error);
  // The store restarted: replaces both connections (failing what waited on
  // the old ones) and has JavaScript subscribe its channels again.
  void reattach(common::UniqueFd command_fd, common::UniqueFd subscription_fd);
  // Sends what handlers asked for during the callback that just ended, one
  // write per connection however many requests (the runtime calls it after
  // every callback, like the UDP reply flush).
  void flush();

 private:
  struct Link {
    common::UvHandle<uv_pipe_t> pipe;
    std::string input;
    std::string output;  // requests not written yet
    bool open = false;
  };
  void flush(Link& link);

  bool send(Link& link, std::string bytes);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf, bool command);
  void on_command_input();
  void on_subscription_input();
  // What one reply on the subscription connection tells JavaScript: a
  // delivery, a confirmation, or a refusal of the oldest SUBSCRIBE
  // unanswered. The views point into the reply or into `refused_channel_`.
  struct SubscriptionEvent {
    std::string_view kind;
    std::string_view channel;
    std::string_view payload;
  };
  bool subscription_event(const ipc::resp::Value& reply, SubscriptionEvent& event);
  // Rejects every waiting command and tells JavaScript the store is gone.
  // Fails what waits on the store; `reconnect` asks the supervisor for new
  // connections.
  void fail(const std::string& reason, bool reconnect = true);
  bool resolve_next(const ipc::resp::Value& reply);
  bool to_js(const ipc::resp::Value& reply, JS::MutableHandleValue out);

  static bool native_command(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_subscribe(JSContext* cx, unsigned argc, JS::Value* vp);
  static bool native_unsubscribe(JSContext* cx, unsigned argc, JS::Value* vp);

  Runtime& runtime_;
  Link command_;
  Link subscription_;
  ipc::resp::Limits limits_;
  std::deque<std::unique_ptr<JS::PersistentRootedObject>> waiting_;  // promises, in request order
  // Channels of the SUBSCRIBEs sent and not answered yet, in order: each gets
  // one reply, a confirmation or (refused: a cap, the store's memory) an error.
  std::deque<std::string> subscribes_unanswered_;
  std::string refused_channel_;  // the one a SubscriptionEvent names, while it is delivered
  bool failed_ = false;
};

}  // namespace worker
