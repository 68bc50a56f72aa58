#pragma once
// The supervisor's side of a handler's outbound connections (docs/egress.md).
// A worker has no network; it asks here. The dialer resolves names itself
// (c-ares on the event loop, a channel per handler: egress/resolver.h), checks
// every answer against the handler's egress policy (policy/egress_rules.h),
// connects with a timeout to exactly the addresses it checked, hands the
// connected socket to the worker over SCM_RIGHTS, and tracks it like an
// inbound connection (the supervisor keeps its own reference, so counts are
// the kernel's truth and the socket dies with the worker).

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log_budget.h"
#include "common/one_shot_timer.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/uv_handle.h"
#include "ipc/messages.h"
#include "policy/egress_settings.h"
#include "policy/rate_limiter.h"
#include "supervisor/egress/resolver.h"

namespace supervisor {

class ConnectionTracker;
class WorkerProcess;

namespace egress {

// The host's own addresses (every interface's), which a name or `public`
// never admits: a service on a public address of this host is still this
// host. Read at each check, since interfaces come and go.
policy::CidrSet host_addresses();

class Dialer {
 public:
  struct Timeouts {
    uint32_t connect_ms = 10000;
    uint32_t lookup_ms = 5000;
  };

  // `next_id` numbers connections as inbound ones are (the tracker's ids).
  Dialer(uv_loop_t* loop, ConnectionTracker& tracker, std::function<uint64_t()> next_id, std::string handler,
         std::string tenant);
  ~Dialer();
  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;

  // The policy in force (a new manifest, an `access` export). Requests
  // already admitted finish under the policy they were admitted by.
  void set_policy(policy::EffectiveEgress egress, Timeouts timeouts);

  // A worker's requests. Each is answered exactly once, unless the worker
  // ends first (forget).
  void connect(WorkerProcess& worker, const ipc::EgressConnect& request);
  void lookup(WorkerProcess& worker, const ipc::EgressLookup& request);
  // The worker is gone: its requests in flight are dropped.
  void forget(const WorkerProcess* worker);
  // A tracked outbound connection closed.
  void on_closed();

  nlohmann::json status() const;

 private:
  struct Attempt;

  // Limits and counting shared by connect and lookup; the refusal, or none.
  policy::EgressRefusal admit_request(bool is_connect);
  void refuse(Attempt& attempt, policy::EgressRefusal refusal, const std::string& detail);
  void resolve(Attempt& attempt);
  void on_resolved(uint64_t attempt_id, Resolver::Answer answer);
  void start_connecting(Attempt& attempt);
  void try_next_address(Attempt& attempt);
  void on_writable(uint64_t attempt_id);
  // Sends the answer and forgets the attempt.
  void finish(Attempt& attempt, const std::string& code, common::UniqueFd fd = {});
  void count_failure(const std::string& code);

  uv_loop_t* loop_;
  ConnectionTracker& tracker_;
  std::function<uint64_t()> next_id_;
  std::string handler_;
  std::string tenant_;
  policy::EffectiveEgress egress_;
  Timeouts timeouts_;
  std::optional<policy::TokenBucket> rate_;
  policy::TokenBucket::State rate_state_{};
  std::map<uint64_t, std::unique_ptr<Attempt>> attempts_;
  uint64_t next_attempt_ = 1;
  // Made at the first lookup; its queries die with it.
  std::unique_ptr<Resolver> resolver_;
  // Counts for status.
  uint64_t opened_ = 0;
  uint64_t active_ = 0;
  uint64_t lookups_ = 0;
  std::array<uint64_t, policy::kEgressRefusalKinds> refused_{};
  std::map<std::string, uint64_t> failed_;  // by error code (ENOTFOUND, ETIMEDOUT, ECONNREFUSED, ...)
  common::LogBudget refusal_log_{20, 60};  // egress-refused lines
};

}  // namespace egress
}  // namespace supervisor
