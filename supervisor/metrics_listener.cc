#include "supervisor/metrics_listener.h"

#include <string>

namespace supervisor {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
constexpr uint64_t kRequestTimeoutMs = 5000;
constexpr size_t kMaxClients = 64;

// The write request owns its bytes until libuv is done with them, whatever
// happens to the client meanwhile.
struct Reply {
  uv_write_t request{};
  std::string bytes;
};

}  // namespace

MetricsListener::MetricsListener(uv_loop_t* loop, std::function<std::string()> render)
    : loop_(loop), render_(std::move(render)) {}

bool MetricsListener::start(const std::string& host, uint16_t port, std::string& error) {
  sockaddr_storage address{};
  int rc = host.find(':') == std::string::npos
               ? uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&address))
               : uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&address));
  if (rc == 0) rc = server_.init(uv_tcp_init, loop_);
  if (rc == 0) rc = uv_tcp_bind(server_.get(), reinterpret_cast<sockaddr*>(&address), 0);
  if (rc == 0) {
    server_->data = this;
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_.get()), 16, [](uv_stream_t* s, int status) {
      if (s->data && status == 0) static_cast<MetricsListener*>(s->data)->on_connection();
    });
  }
  if (rc != 0) {
    error = "cannot serve metrics on " + host + ":" + std::to_string(port) + ": " + uv_strerror(rc);
    server_.reset();
    return false;
  }
  return true;
}

void MetricsListener::on_connection() {
  auto client = std::make_unique<Client>();
  client->owner = this;
  if (client->tcp.init(uv_tcp_init, loop_) != 0) return;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(server_.get()), reinterpret_cast<uv_stream_t*>(client->tcp.get())) != 0 ||
      clients_.size() >= kMaxClients) {
    return;  // dropped: its handle closes with it
  }
  Client* c = client.get();
  c->tcp->data = c;
  clients_.push_back(std::move(client));
  c->deadline.start(loop_, kRequestTimeoutMs, [this, c] { close(c); });
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(c->tcp.get()),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
        std::unique_ptr<char[]> owned(buf->base);
        if (auto* reader = static_cast<Client*>(stream->data)) reader->owner->on_read(reader, owned.get(), n);
      });
}

void MetricsListener::on_read(Client* client, const char* data, ssize_t size) {
  if (client->answered) return;
  if (size > 0) client->request.append(data, static_cast<size_t>(size));
  bool complete = client->request.find("\r\n\r\n") != std::string::npos;
  if (size < 0 && !complete) return close(client);  // ended or failed before a whole request
  if (client->request.size() > kMaxRequestBytes) return answer(client, "400 Bad Request", "text/plain", "request too large\n");
  if (!complete) return;
  auto line_end = client->request.find("\r\n");
  std::string line = client->request.substr(0, line_end);
  if (line.rfind("GET ", 0) != 0 && line.rfind("HEAD ", 0) != 0) {
    return answer(client, "405 Method Not Allowed", "text/plain", "only GET /metrics\n");
  }
  std::string target = line.substr(line.find(' ') + 1);
  target = target.substr(0, target.find(' '));
  if (target != "/metrics" && target.rfind("/metrics?", 0) != 0) {
    return answer(client, "404 Not Found", "text/plain", "see /metrics\n");
  }
  answer(client, "200 OK", "text/plain; version=0.0.4; charset=utf-8", line.rfind("HEAD ", 0) == 0 ? "" : render_());
}

void MetricsListener::answer(Client* client, const std::string& status, const std::string& type,
                             const std::string& body) {
  client->answered = true;
  auto* reply = new Reply;
  reply->bytes = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  uv_buf_t buf = uv_buf_init(reply->bytes.data(), static_cast<unsigned>(reply->bytes.size()));
  int rc = uv_write(&reply->request, reinterpret_cast<uv_stream_t*>(client->tcp.get()), &buf, 1,
                    [](uv_write_t* request, int) {
                      std::unique_ptr<Reply> done(reinterpret_cast<Reply*>(request));
                      if (auto* c = static_cast<Client*>(request->handle->data)) c->owner->close(c);
                    });
  if (rc != 0) {
    delete reply;
    close(client);
  }
}

void MetricsListener::close(Client* client) {
  clients_.remove_if([&](const auto& c) { return c.get() == client; });
}

}  // namespace supervisor
