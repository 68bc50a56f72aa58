#include "supervisor/egress/dialer.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "supervisor/admission.h"
#include "supervisor/connection_tracker.h"
#include "supervisor/firewall_egress_rules.h"
#include "supervisor/worker_process.h"

namespace supervisor::egress {
namespace {

// The error codes handler code sees (docs/egress.md): a refusal by the
// policy reads like the kernel refusing a connect (EACCES), a limit like a
// busy resource (EAGAIN), a name the policy does not let resolve like a name
// that does not exist (ENOTFOUND).
constexpr const char* kRefusedCode = "EACCES";
constexpr const char* kLimitCode = "EAGAIN";
constexpr const char* kNotFoundCode = "ENOTFOUND";
constexpr const char* kLookupTimeoutCode = "EAI_AGAIN";
constexpr const char* kTimeoutCode = "ETIMEDOUT";
constexpr uint64_t kResolverRefreshMs = 60000;

std::string errno_code(int error) {
  switch (error) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    default: return "ECONNREFUSED";
  }
}

common::SocketAddress socket_address(const policy::IpAddress& address, uint16_t port) {
  return common::SocketAddress::from_parts(address.is_v4 ? AF_INET : AF_INET6, address.bytes, port);
}

}  // namespace

policy::CidrSet host_addresses() {
  std::vector<policy::Cidr> blocks;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return policy::CidrSet{};
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    int family = entry->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    auto address = common::SocketAddress::from_sockaddr(
        entry->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    if (!address.valid()) continue;
    policy::IpAddress ip = to_ip(address);
    blocks.push_back({ip, static_cast<uint8_t>(ip.bits())});
  }
  freeifaddrs(list);
  return policy::CidrSet(std::move(blocks));
}

struct Dialer::Attempt {
  Dialer* dialer = nullptr;
  uint64_t id = 0;
  WorkerProcess* worker = nullptr;
  bool is_connect = true;
  uint32_t request_id = 0;
  std::string host;  // as handler code wrote it, for logs
  std::optional<policy::IpAddress> literal;
  std::string name;
  uint16_t port = 0;
  uint8_t family = 0;  // lookups: 0, 4 or 6
  bool resolving = false;
  std::vector<policy::IpAddress> addresses;  // checked, in the resolver's order
  size_t next = 0;
  common::UniqueFd socket;
  common::UvHandle<uv_poll_t> poll;
  common::OneShotTimer deadline;
  common::SocketAddress remote;
  std::string last_error;
};

Dialer::Dialer(uv_loop_t* loop, ConnectionTracker& tracker, std::function<uint64_t()> next_id, std::string handler,
               std::string tenant)
    : loop_(loop),
      tracker_(tracker),
      next_id_(std::move(next_id)),
      handler_(std::move(handler)),
      tenant_(std::move(tenant)) {}

Dialer::~Dialer() = default;

void Dialer::set_policy(policy::EffectiveEgress egress, Timeouts timeouts) {
  bool rate_changed = !rate_ || egress.per_second != egress_.per_second;
  egress_ = std::move(egress);
  timeouts_ = timeouts;
  if (rate_changed) {
    // A burst of one second's worth, refilled continuously.
    rate_.emplace(egress_.per_second, 1000);
    rate_state_ = rate_->full(uv_now(loop_));
  }
}

policy::EgressRefusal Dialer::admit_request(bool is_connect) {
  size_t in_flight = std::count_if(attempts_.begin(), attempts_.end(), [](const auto& entry) {
    return entry.second->is_connect;
  });
  // Lookups in flight are bounded too (each holds a thread-pool slot), by
  // the same number.
  size_t lookups_in_flight = attempts_.size() - in_flight;
  if (is_connect ? active_ + in_flight >= egress_.concurrent : lookups_in_flight >= egress_.concurrent) {
    return policy::EgressRefusal::max_outbound;
  }
  if (!rate_ || !rate_->take(rate_state_, uv_now(loop_))) return policy::EgressRefusal::rate_limit;
  return policy::EgressRefusal::none;
}

void Dialer::connect(WorkerProcess& worker, const ipc::EgressConnect& request) {
  auto attempt = std::make_unique<Attempt>();
  attempt->dialer = this;
  attempt->id = next_attempt_++;
  attempt->worker = &worker;
  attempt->is_connect = true;
  attempt->request_id = request.request_id;
  attempt->host = request.host;
  attempt->port = request.port;
  std::string error;
  auto host = policy::parse_egress_host(request.host, error);
  // The destination first: one that is never allowed costs no token, and
  // is counted as what it is. Then the limits, before anything is resolved.
  auto refusal = policy::EgressRefusal::none;
  if (host) {
    attempt->literal = host->address;
    attempt->name = host->name;
    refusal = host->address ? egress_.policy.check_address(*host->address, attempt->port, host_addresses())
                            : egress_.policy.check_name(host->name, attempt->port);
    if (refusal == policy::EgressRefusal::none) refusal = admit_request(true);
  }
  Attempt& a = *attempt;
  attempts_.emplace(a.id, std::move(attempt));
  if (!host) {
    count_failure(kNotFoundCode);
    return finish(a, kNotFoundCode);
  }
  if (refusal != policy::EgressRefusal::none) return refuse(a, refusal, "");
  if (a.literal) {
    a.addresses = {a.literal->is_v4_mapped() ? a.literal->unmapped() : *a.literal};
    start_connecting(a);
    return;
  }
  resolve(a);
}

void Dialer::start_connecting(Attempt& attempt) {
  // One deadline for every address of the destination together.
  attempt.deadline.start(loop_, timeouts_.connect_ms, [this, id = attempt.id] {
    auto found = attempts_.find(id);
    if (found == attempts_.end()) return;
    count_failure(kTimeoutCode);
    finish(*found->second, kTimeoutCode);
  });
  try_next_address(attempt);
}

void Dialer::lookup(WorkerProcess& worker, const ipc::EgressLookup& request) {
  ++lookups_;
  std::string error;
  auto host = policy::parse_egress_host(request.host, error);
  auto refusal = host && !host->address ? egress_.policy.check_name(host->name, std::nullopt)
                                        : policy::EgressRefusal::not_allowed;
  if (refusal == policy::EgressRefusal::none) refusal = admit_request(false);
  auto attempt = std::make_unique<Attempt>();
  attempt->dialer = this;
  attempt->id = next_attempt_++;
  attempt->worker = &worker;
  attempt->is_connect = false;
  attempt->request_id = request.request_id;
  attempt->host = request.host;
  attempt->family = request.family;
  if (host) attempt->name = host->name;
  Attempt& a = *attempt;
  attempts_.emplace(a.id, std::move(attempt));
  if (!host || host->address) {
    // The worker answers address literals itself; a malformed name is not found.
    count_failure(kNotFoundCode);
    return finish(a, kNotFoundCode);
  }
  if (refusal != policy::EgressRefusal::none) return refuse(a, refusal, "");
  resolve(a);
}

void Dialer::refuse(Attempt& attempt, policy::EgressRefusal refusal, const std::string& detail) {
  ++refused_[static_cast<size_t>(refusal)];
  bool limit = refusal == policy::EgressRefusal::rate_limit || refusal == policy::EgressRefusal::max_outbound;
  // The broker's log says why; the remote side never hears of it. Handler
  // code chooses how often to ask: the log gets a bounded share, and status
  // counts every refusal.
  if (refusal_log_.allow(uv_now(loop_))) {
    auto line = limit ? common::log::warn("egress-refused") : common::log::info("egress-refused");
    line.kv("handler", handler_)
        .kv_nonempty("tenant", tenant_)
        .kv(attempt.is_connect ? "destination" : "lookup",
            attempt.is_connect ? attempt.host + ":" + std::to_string(attempt.port) : attempt.host)
        .kv("reason", policy::egress_refusal_name(refusal))
        .kv("why", limit ? "over the handler's connect limits"
                         : refusal == policy::EgressRefusal::forbidden_address
                               ? "not allowed by the manifest: a name or public entry never admits a special or local address"
                               : "not allowed by the manifest");
    if (!detail.empty()) line.kv("detail", detail);
    line.kv("suppressed", refusal_log_.take_suppressed());
  }
  const char* code = limit ? kLimitCode : attempt.is_connect ? kRefusedCode : kNotFoundCode;
  finish(attempt, code);
}

void Dialer::resolve(Attempt& attempt) {
  attempt.resolving = true;
  // The resolver's own timeouts can be long; the handler waits this long at most.
  attempt.deadline.start(loop_, timeouts_.lookup_ms, [this, id = attempt.id] {
    auto found = attempts_.find(id);
    if (found == attempts_.end()) return;
    count_failure(kLookupTimeoutCode);
    finish(*found->second, kLookupTimeoutCode);
  });
  // A resolver reads /etc/resolv.conf when it is made: an idle one older
  // than a minute makes way for a fresh one, so a changed resolv.conf (DHCP,
  // a new name server) applies within a minute, and a changed lookup
  // timeout with it.
  if (resolver_ && resolver_->pending() == 0 && uv_now(loop_) - resolver_->created_ms() > kResolverRefreshMs) {
    resolver_.reset();
  }
  if (!resolver_) resolver_ = std::make_unique<Resolver>(loop_, timeouts_.lookup_ms);
  int family = attempt.family == 4 ? AF_INET : attempt.family == 6 ? AF_INET6 : AF_UNSPEC;
  // Answered on a later turn of the loop, never from inside this call.
  resolver_->resolve(attempt.name, family,
                     [this, id = attempt.id](Resolver::Answer answer) { on_resolved(id, std::move(answer)); });
}

void Dialer::on_resolved(uint64_t attempt_id, Resolver::Answer answer) {
  auto found = attempts_.find(attempt_id);
  if (found == attempts_.end()) return;  // timed out, or its worker is gone
  Attempt& attempt = *found->second;
  attempt.resolving = false;
  attempt.deadline.cancel();
  if (answer.status != ARES_SUCCESS) {
    std::string code = Resolver::temporary(answer.status) ? kLookupTimeoutCode : kNotFoundCode;
    count_failure(code);
    return finish(attempt, code);
  }
  std::vector<policy::IpAddress> addresses;
  for (const common::SocketAddress& address : answer.addresses) {
    policy::IpAddress ip = to_ip(address);
    if (std::find(addresses.begin(), addresses.end(), ip) == addresses.end()) addresses.push_back(ip);
  }
  // Every answer is checked, and one that is not admitted refuses the name
  // whole: a name that also points somewhere forbidden (DNS rebinding, a
  // record an attacker controls) gets nowhere.
  std::optional<uint16_t> port = attempt.is_connect ? std::optional<uint16_t>(attempt.port) : std::nullopt;
  auto refusal = egress_.policy.check_answers(attempt.name, port, addresses, host_addresses());
  if (addresses.empty()) {
    count_failure(kNotFoundCode);
    return finish(attempt, kNotFoundCode);
  }
  if (refusal != policy::EgressRefusal::none) {
    std::string listed;
    for (const auto& address : addresses) {
      listed += (listed.empty() ? "" : ",") + address.to_string() + " (" +
                std::string(policy::address_class_name(policy::classify(address))) + ")";
    }
    return refuse(attempt, refusal, "answers " + listed);
  }
  attempt.addresses = std::move(addresses);
  if (!attempt.is_connect) return finish(attempt, "");
  start_connecting(attempt);
}

void Dialer::try_next_address(Attempt& attempt) {
  attempt.poll.reset();
  attempt.socket.reset();
  while (attempt.next < attempt.addresses.size()) {
    const policy::IpAddress& address = attempt.addresses[attempt.next++];
    // Exactly the address that was checked, nothing the resolver says later.
    attempt.remote = socket_address(address, attempt.port);
    common::UniqueFd fd(::socket(attempt.remote.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      attempt.last_error = errno_code(errno);
      continue;
    }
    // For the kernel's egress chain (supervisor/firewall_egress_rules.h).
    // Without CAP_NET_ADMIN this fails, and then there is no firewall either.
    uint32_t mark = kEgressMark;
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    int rc = ::connect(fd.get(), attempt.remote.sockaddr_ptr(), attempt.remote.length());
    if (rc == 0) {
      attempt.socket = std::move(fd);
      return on_writable(attempt.id);
    }
    if (errno != EINPROGRESS) {
      attempt.last_error = errno_code(errno);
      continue;
    }
    attempt.socket = std::move(fd);
    if (attempt.poll.init(uv_poll_init, loop_, attempt.socket.get()) != 0) {
      attempt.last_error = "EMFILE";
      attempt.socket.reset();
      continue;
    }
    // The handle is closed (and its data cleared) with the attempt, so the
    // callback never outlives it.
    attempt.poll->data = &attempt;
    uv_poll_start(attempt.poll.get(), UV_WRITABLE, [](uv_poll_t* handle, int, int) {
      auto* pending = static_cast<Attempt*>(handle->data);
      if (pending != nullptr) pending->dialer->on_writable(pending->id);
    });
    return;
  }
  std::string code = attempt.last_error.empty() ? "ECONNREFUSED" : attempt.last_error;
  count_failure(code);
  finish(attempt, code);
}

void Dialer::on_writable(uint64_t attempt_id) {
  auto found = attempts_.find(attempt_id);
  if (found == attempts_.end()) return;
  Attempt& attempt = *found->second;
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(attempt.socket.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error != 0) {
    attempt.last_error = errno_code(error);
    return try_next_address(attempt);
  }
  finish(attempt, "", std::move(attempt.socket));
}

void Dialer::finish(Attempt& attempt, const std::string& code, common::UniqueFd fd) {
  auto owned = std::move(attempts_[attempt.id]);
  attempts_.erase(attempt.id);
  owned->poll.reset();
  owned->deadline.cancel();
  WorkerProcess& worker = *owned->worker;
  if (!owned->is_connect) {
    ipc::EgressLookupResult result{owned->request_id, code, {}};
    if (code.empty()) {
      for (const auto& address : owned->addresses) {
        if (result.addresses.size() >= ipc::kMaxLookupAddresses) break;
        result.addresses.push_back(socket_address(address, 0));
      }
    }
    worker.send_egress_lookup_result(result);
    return;
  }
  ipc::EgressConnected answer{owned->request_id, code, code.empty() ? owned->remote : common::SocketAddress{}};
  if (!fd) {
    worker.send_egress_connected(answer, -1);
    return;
  }
  uint64_t id = next_id_();
  if (!worker.send_egress_connected(answer, fd.get())) return;
  // Tracked like an inbound connection: the kernel's close reaches
  // on_closed, and the socket goes when the worker does.
  TrackedConnection tracked;
  tracked.fd = std::move(fd);
  tracked.owner = &worker;
  tracked.remote = owned->remote;
  tracked.outbound = true;
  if (!tracker_.add(id, std::move(tracked))) return;
  ++opened_;
  ++active_;
  common::log::debug("egress-connected")
      .kv("handler", handler_)
      .kv_nonempty("tenant", tenant_)
      .kv("conn", id)
      .kv("destination", owned->host + ":" + std::to_string(owned->port))
      .kv("remote", owned->remote.to_string());
}

void Dialer::count_failure(const std::string& code) { ++failed_[code]; }

void Dialer::forget(const WorkerProcess* worker) {
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    if (it->second->worker != worker) {
      ++it;
      continue;
    }
    it = attempts_.erase(it);
  }
}

void Dialer::on_closed() {
  if (active_ > 0) --active_;
}

nlohmann::json Dialer::status() const {
  nlohmann::json refused = nlohmann::json::object();
  for (size_t i = 1; i < refused_.size(); ++i) {
    refused[std::string(policy::egress_refusal_name(static_cast<policy::EgressRefusal>(i)))] = refused_[i];
  }
  return {
      {"connect", egress_.connect},
      {"access", egress_.access},
      {"tenant_cap", egress_.capped_by_tenant ? nlohmann::json(egress_.tenant_cap) : nlohmann::json(nullptr)},
      {"limits", {{"concurrent", egress_.concurrent}, {"per_second", egress_.per_second}}},
      {"opened", opened_},
      {"active", active_},
      {"pending", attempts_.size()},
      {"lookups", lookups_},
      {"refused", refused},
      {"failed", failed_},
  };
}

}  // namespace supervisor::egress
