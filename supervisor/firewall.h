#pragma once
// Programs the kernel through libnftables' JSON API. Every change is one
// transaction; on failure nothing changes and the firewall is reported off
// (userspace screening always runs regardless). The broker never touches
// other tables, except for tagged accept rules in the chain the operator
// names in the config (`firewall.accept_in`).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/firewall_rules.h"

struct nft_ctx;

namespace supervisor {

class Firewall {
 public:
  // `enabled` false: never touches the kernel, reports `reason`.
  Firewall(bool enabled, std::string reason, std::optional<OperatorChain> accept_in);
  ~Firewall();
  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;

  // Makes the kernel match `ports`. On failure the firewall turns itself off
  // (with the reason) and returns false.
  bool apply(const std::vector<FirewallPort>& ports, const std::vector<policy::EgressRule>& egress);
  // Removes the table and the tagged rules (clean shutdown).
  void remove();

  bool enabled() const { return enabled_; }
  const std::string& reason() const { return reason_; }

 private:
  struct ContextDeleter {
    void operator()(nft_ctx* ctx) const;
  };

  bool run(const std::string& commands, std::string& output, std::string& error);
  std::vector<uint64_t> current_tagged_handles();
  void disable(const std::string& reason);

  bool enabled_;
  std::string reason_;
  std::optional<OperatorChain> accept_in_;
  std::unique_ptr<nft_ctx, ContextDeleter> ctx_;
};

}  // namespace supervisor
