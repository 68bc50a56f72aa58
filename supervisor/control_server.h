#pragma once
// `<run-dir>/control.sock`: portbrokerctl's way in. Owner-only permissions and
// a peer-credential check (root or the broker's own user). One request per
// connection: a JSON line in, a JSON line out.

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
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  ControlServer(uv_loop_t* loop, std::string path, Handler handler);
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
  common::UvHandle<uv_pipe_t> server_;
  std::unordered_map<Client*, std::unique_ptr<Client>> clients_;
};

}  // namespace supervisor
