#pragma once
// Serves the Prometheus metrics over plain HTTP on the address configured in
// `metrics.listen` (for a scraper on the host or a management network). It
// understands one request per connection, `GET /metrics`, answers and
// closes; anything else gets 404 or 400. Requests are bounded in size and
// time, so a slow or hostile client cannot hold the supervisor.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "common/one_shot_timer.h"
#include "common/uv_handle.h"

namespace supervisor {

class MetricsListener {
 public:
  MetricsListener(uv_loop_t* loop, std::function<std::string()> render);
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

  bool start(const std::string& host, uint16_t port, std::string& error);

 private:
  struct Client {
    MetricsListener* owner = nullptr;
    common::UvHandle<uv_tcp_t> tcp;
    std::string request;
    common::OneShotTimer deadline;
    bool answered = false;
  };

  void on_connection();
  void on_read(Client* client, const char* data, ssize_t size);
  void answer(Client* client, const std::string& status, const std::string& type, const std::string& body);
  void close(Client* client);

  uv_loop_t* loop_;
  std::function<std::string()> render_;
  common::UvHandle<uv_tcp_t> server_;
  std::list<std::unique_ptr<Client>> clients_;
};

}  // namespace supervisor
