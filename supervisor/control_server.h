#pragma once
// `<run-dir>/control.sock`: portbrokerctl's way in. One request per
// connection: a JSON line in, a JSON line out. The handler gets the peer's
// uid from its credentials (SO_PEERCRED) and decides what it may see: root
// and the broker's user everything, a tenant's user its own handlers. Without
// tenants the socket is owner-only; with them every local user may connect,
// and the credentials decide.

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/uv_handle.h"

namespace supervisor {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request, uid_t peer_uid)>;

  // `open_to_all`: mode 0666 (tenants' users connect too), else 0600.
  ControlServer(uv_loop_t* loop, std::string path, Handler handler, bool open_to_all = false);
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();

  bool start(std::string& error);
  const std::string& path() const { return path_; }

 private:
  struct Client;
  void on_connection();
  void on_request(Client& client);
  void finish(Client& client, const nlohmann::json& response);

  uv_loop_t* loop_;
  std::string path_;
  Handler handler_;
  bool open_to_all_;
  common::UvHandle<uv_pipe_t> server_;
  std::unordered_map<Client*, std::unique_ptr<Client>> clients_;
};

}  // namespace supervisor
