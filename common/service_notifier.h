#pragma once
// Tells the service manager (systemd, Type=notify) what the broker is doing:
// ready, reloading, stopping, plus a one-line status. The socket named by
// $NOTIFY_SOCKET is taken at construction and the variable removed, so the
// broker's children never see it. Without the variable nothing is sent.

#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace common {

class ServiceNotifier {
 public:
  ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  bool enabled() const { return static_cast<bool>(socket_); }
  // `state` is sd_notify's text: newline-separated KEY=VALUE assignments.
  void send(std::string_view state) const;

  void ready(std::string_view status) const;
  // Followed by ready() once the reload is done.
  void reloading() const;
  void stopping() const;

 private:
  UniqueFd socket_;
  std::string address_;  // the socket path; a leading '@' means the abstract namespace
};

}  // namespace common
