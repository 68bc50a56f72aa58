#include "supervisor/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

namespace supervisor {
namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;

struct WriteRequest {
  uv_write_t request{};
  std::string bytes;
};

}  // namespace

struct ControlServer::Client {
  // A reply's write callback can run after the client is gone (libuv reports
  // a write that completed before the handle closed with status 0, not
  // UV_ECANCELED), so the request's back pointer is cleared here.
  ~Client() {
    if (pending != nullptr) pending->request.data = nullptr;
  }
  ControlServer* server = nullptr;
  common::UvHandle<uv_pipe_t> pipe;
  std::string input;
  uid_t peer_uid = 0;
  bool answered = false;
  WriteRequest* pending = nullptr;
};

ControlServer::ControlServer(uv_loop_t* loop, std::string path, Handler handler, bool open_to_all)
    : loop_(loop), path_(std::move(path)), handler_(std::move(handler)), open_to_all_(open_to_all) {}

ControlServer::~ControlServer() {
  clients_.clear();
  server_.reset();
  unlink(path_.c_str());
}

bool ControlServer::start(std::string& error) {
  if (int rc = server_.init(uv_pipe_init, loop_, 0); rc != 0) {
    error = std::string("control socket: ") + uv_strerror(rc);
    return false;
  }
  server_->data = this;
  unlink(path_.c_str());
  mode_t old_mask = umask(0177);
  int rc = uv_pipe_bind(server_.get(), path_.c_str());
  umask(old_mask);
  // Opened up only after it exists owner-only: never a moment with other modes.
  if (rc == 0 && open_to_all_ && chmod(path_.c_str(), 0666) != 0) rc = -errno;
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_.get()), 64, [](uv_stream_t* stream, int status) {
      if (status == 0 && stream->data) static_cast<ControlServer*>(stream->data)->on_connection();
    });
  }
  if (rc != 0) {
    error = "cannot listen on " + path_ + ": " + uv_strerror(rc);
    return false;
  }
  return true;
}

void ControlServer::on_connection() {
  auto client = std::make_unique<Client>();
  client->server = this;
  if (client->pipe.init(uv_pipe_init, loop_, 0) != 0) return;
  client->pipe->data = client.get();
  if (uv_accept(reinterpret_cast<uv_stream_t*>(server_.get()), reinterpret_cast<uv_stream_t*>(client->pipe.get())) != 0) {
    return;
  }
  Client* raw = client.get();
  clients_.emplace(raw, std::move(client));

  uv_os_fd_t fd;
  ucred peer{};
  socklen_t length = sizeof peer;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(raw->pipe.get()), &fd) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
    finish(*raw, {{"error", "permission denied: the peer's credentials cannot be read"}});
    return;
  }
  raw->peer_uid = peer.uid;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(raw->pipe.get()),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static char buffer[8192];
        *buf = uv_buf_init(buffer, sizeof buffer);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* reader = static_cast<Client*>(stream->data);
        if (reader == nullptr || reader->answered) return;
        if (nread < 0) {
          reader->server->clients_.erase(reader);
          return;
        }
        reader->input.append(buf->base, static_cast<size_t>(nread));
        if (reader->input.find('\n') != std::string::npos) {
          reader->server->on_request(*reader);
        } else if (reader->input.size() > kMaxRequestBytes) {
          reader->server->finish(*reader, {{"error", "request too large"}});
        }
      });
}

void ControlServer::on_request(Client& client) {
  std::string line = client.input.substr(0, client.input.find('\n'));
  nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
  if (request.is_discarded() || !request.is_object() || !request.contains("command") ||
      !request["command"].is_string()) {
    finish(client, {{"error", "malformed request: expected {\"command\": ...}"}});
    return;
  }
  // Whatever goes wrong with one request is that request's error, never
  // the end of the supervisor that serves every handler.
  nlohmann::json response;
  try {
    response = handler_(request, client.peer_uid);
  } catch (const std::exception& e) {
    common::log::error("control-request-failed")
        .kv("command", request["command"].get<std::string>())
        .kv("uid", static_cast<int64_t>(client.peer_uid))
        .kv("reason", e.what());
    response = {{"error", std::string("internal error: ") + e.what()}};
  }
  finish(client, response);
}

void ControlServer::finish(Client& client, const nlohmann::json& response) {
  client.answered = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(client.pipe.get()));
  auto request = std::make_unique<WriteRequest>();
  request->bytes = response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  request->request.data = &client;
  uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  int rc = uv_write(&request->request, reinterpret_cast<uv_stream_t*>(client.pipe.get()), &buf, 1,
                    [](uv_write_t* raw, int) {
                      std::unique_ptr<WriteRequest> done(reinterpret_cast<WriteRequest*>(raw));
                      auto* finished = static_cast<Client*>(raw->data);
                      if (finished == nullptr) return;  // the client is gone already
                      finished->pending = nullptr;
                      finished->server->clients_.erase(finished);
                    });
  if (rc == 0) {
    client.pending = request.release();
  } else {
    clients_.erase(&client);
  }
}

}  // namespace supervisor
