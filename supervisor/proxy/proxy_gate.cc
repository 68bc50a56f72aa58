#include "supervisor/proxy/proxy_gate.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "common/log.h"
#include "supervisor/admission.h"

namespace supervisor {
namespace {

ProxyRefusal refusal_for(policy::ProxyHeaderError error) {
  switch (error) {
    case policy::ProxyHeaderError::too_large: return ProxyRefusal::too_large;
    case policy::ProxyHeaderError::checksum: return ProxyRefusal::checksum;
    case policy::ProxyHeaderError::malformed:
    case policy::ProxyHeaderError::none: break;
  }
  return ProxyRefusal::malformed;
}

ipc::ProxyInfo proxy_info(const policy::ProxyHeader& header, const common::SocketAddress& balancer) {
  ipc::ProxyInfo info;
  info.version = static_cast<uint8_t>(header.version);
  info.balancer = balancer;
  if (header.addresses) info.destination = to_socket_address(header.addresses->destination, header.addresses->destination_port);
  info.authority = header.authority;
  info.alpn = header.alpn;
  info.unique_id = header.unique_id;
  // Balancers may send PP2_TYPE_SSL for plaintext clients too (client bits 0):
  // conn.proxy.ssl is there only when the client spoke TLS to the balancer.
  if (header.ssl && (header.ssl->client & policy::ProxySsl::kClientSsl)) {
    info.ssl = ipc::ProxySsl{header.ssl->client_certificate(), header.ssl->verified(), header.ssl->version,
                             header.ssl->common_name};
  }
  return info;
}

}  // namespace

static_assert(ipc::kMaxProxyTextBytes >= policy::kProxyMaxAuthorityBytes &&
              ipc::kMaxProxyTextBytes >= policy::kProxyMaxAlpnBytes &&
              ipc::kMaxProxyTextBytes >= policy::kProxyMaxSslTextBytes &&
              ipc::kMaxProxyUniqueIdBytes >= policy::kProxyMaxUniqueIdBytes,
              "every header the parser accepts must fit the hand-off message");

std::string_view proxy_refusal_name(ProxyRefusal refusal) {
  switch (refusal) {
    case ProxyRefusal::untrusted: return "untrusted";
    case ProxyRefusal::malformed: return "malformed";
    case ProxyRefusal::too_large: return "too-large";
    case ProxyRefusal::checksum: return "checksum";
    case ProxyRefusal::truncated: return "truncated";
    case ProxyRefusal::timeout: return "timeout";
  }
  return "malformed";
}

ProxyGate::ProxyGate(uv_loop_t* loop, std::string handler, std::string tenant, Events events)
    : loop_(loop), handler_(std::move(handler)), tenant_(std::move(tenant)), events_(std::move(events)) {}

bool ProxyGate::take(common::UniqueFd fd, const common::SocketAddress& peer, const policy::ProxyTrust& trust,
                     size_t room) {
  // Never guessed: a header counts only from a trusted source, and a trusted
  // source must send one.
  if (!trust.trusted.contains(to_ip(peer))) {
    if (trust.allow_direct) {
      events_.admit(std::move(fd), peer, std::nullopt);
    } else {
      count_refusal(ProxyRefusal::untrusted, peer, "not a trusted source, and allowDirect is off");
      fd.reset();
      events_.refused();
    }
    return true;
  }
  if (waiting_.size() >= room) return false;
  auto waiting = std::make_unique<Waiting>();
  Waiting* w = waiting.get();
  w->gate = this;
  w->id = next_id_++;
  w->peer = peer;
  if (int rc = w->poll.init(uv_poll_init, loop_, fd.get()); rc != 0) {
    common::log::error("proxy-gate-failed").kv("handler", handler_).kv_nonempty("tenant", tenant_)
        .kv("peer", peer.to_string()).kv("error", uv_strerror(rc));
    fd.reset();
    events_.refused();
    return true;
  }
  w->fd = std::move(fd);
  w->poll->data = w;
  uint64_t timeout_ms = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(trust.header_timeout_s * 1000)));
  w->deadline_ms = uv_now(loop_) + timeout_ms;
  uv_poll_start(w->poll.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
    if (auto* ready = static_cast<Waiting*>(handle->data)) ready->gate->read_header(*ready);
  });
  deadlines_.emplace(w->deadline_ms, w->id);
  waiting_.emplace(w->id, std::move(waiting));
  arm_deadline();
  return true;
}

// Peeks at what has arrived, asks the parser how much of it is header, and
// reads exactly that much: a TLS ClientHello or a greeting sent right behind
// the header stays in the socket for the worker.
void ProxyGate::read_header(Waiting& w) {
  std::array<uint8_t, policy::kProxyMaxHeaderBytes> buffer;
  size_t have = w.header.size();
  std::copy(w.header.begin(), w.header.end(), buffer.begin());
  ssize_t peeked = ::recv(w.fd.get(), buffer.data() + have, buffer.size() - have, MSG_PEEK);
  if (peeked < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    return refuse(w.id, ProxyRefusal::truncated, std::string("the connection failed: ") + std::strerror(errno));
  }
  if (peeked == 0) {
    return refuse(w.id, ProxyRefusal::truncated,
                  "the connection ended after " + std::to_string(have) + " bytes of a header");
  }
  auto parse = policy::parse_proxy_header(std::span<const uint8_t>(buffer.data(), have + static_cast<size_t>(peeked)));
  if (parse.status == policy::ProxyHeaderParse::Status::invalid) {
    return refuse(w.id, refusal_for(parse.error), parse.detail);
  }
  bool complete = parse.status == policy::ProxyHeaderParse::Status::complete;
  if (complete && parse.length <= have) return refuse(w.id, ProxyRefusal::malformed, "inconsistent header length");
  size_t wanted = complete ? parse.length - have : static_cast<size_t>(peeked);
  size_t got = 0;
  while (got < wanted) {
    ssize_t n = ::recv(w.fd.get(), buffer.data() + have + got, wanted - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      // The bytes were peeked a moment ago; only a reset takes them away.
      return refuse(w.id, ProxyRefusal::truncated, "the connection failed while its header was read");
    }
  }
  if (!complete) {
    w.header.insert(w.header.end(), buffer.begin() + static_cast<std::ptrdiff_t>(have),
                    buffer.begin() + static_cast<std::ptrdiff_t>(have + got));
    return;
  }
  passed(w.id, parse.header);
}

void ProxyGate::passed(uint64_t id, const policy::ProxyHeader& header) {
  auto w = release(id);
  if (header.command == policy::ProxyCommand::local) {
    // The balancer's own health check: it reached us, which is all it asks.
    ++health_checks_;
    common::log::debug("proxy-health-check").kv("handler", handler_).kv_nonempty("tenant", tenant_)
        .kv("peer", w->peer.to_string());
    ::shutdown(w->fd.get(), SHUT_RDWR);
    return;
  }
  ++headers_;
  // No addresses (v1 UNKNOWN, v2 UNSPEC and the like): the spec says to use
  // the connection's own, so the balancer stands for the client.
  common::SocketAddress client = w->peer;
  if (header.addresses) client = to_socket_address(header.addresses->source, header.addresses->source_port);
  common::log::debug("proxy-header").kv("handler", handler_).kv_nonempty("tenant", tenant_)
      .kv("peer", w->peer.to_string()).kv("client", client.to_string()).kv("version", header.version);
  events_.admit(std::move(w->fd), client, proxy_info(header, w->peer));
}

void ProxyGate::refuse(uint64_t id, ProxyRefusal reason, const std::string& detail) {
  auto w = release(id);
  count_refusal(reason, w->peer, detail);
  w.reset();
  events_.refused();
}

void ProxyGate::count_refusal(ProxyRefusal reason, const common::SocketAddress& peer, const std::string& detail) {
  ++refused_[static_cast<size_t>(reason)];
  if (!refusal_log_.allow(uv_now(loop_))) return;
  common::log::warn("proxy-header-refused").kv("handler", handler_).kv_nonempty("tenant", tenant_)
      .kv("peer", peer.to_string()).kv("reason", proxy_refusal_name(reason)).kv("detail", detail)
      .kv("suppressed", refusal_log_.take_suppressed());
}

std::unique_ptr<ProxyGate::Waiting> ProxyGate::release(uint64_t id) {
  auto found = waiting_.find(id);
  auto w = std::move(found->second);
  waiting_.erase(found);
  deadlines_.erase({w->deadline_ms, id});
  // Stopped before the fd goes anywhere: libuv must never watch an fd number
  // that was closed (and may be reused).
  w->poll.reset();
  return w;
}

void ProxyGate::arm_deadline() {
  if (deadlines_.empty()) return deadline_timer_.cancel();
  uint64_t now = uv_now(loop_);
  uint64_t due = deadlines_.begin()->first;
  deadline_timer_.start(loop_, due > now ? due - now : 0, [this] { expire(); });
}

void ProxyGate::expire() {
  uint64_t now = uv_now(loop_);
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint64_t id = deadlines_.begin()->second;
    size_t have = waiting_.at(id)->header.size();
    refuse(id, ProxyRefusal::timeout,
           "no complete header within the headerTimeout (" + std::to_string(have) + " bytes arrived)");
  }
  arm_deadline();
}

void ProxyGate::close_all() {
  deadline_timer_.cancel();
  deadlines_.clear();
  waiting_.clear();
}

nlohmann::json ProxyGate::status() const {
  nlohmann::json refused = nlohmann::json::object();
  for (size_t i = 0; i < refused_.size(); ++i) {
    refused[std::string(proxy_refusal_name(static_cast<ProxyRefusal>(i)))] = refused_[i];
  }
  return {{"waiting", waiting_.size()}, {"headers", headers_}, {"health_checks", health_checks_}, {"refused_by", refused}};
}

}  // namespace supervisor
