#include "supervisor/firewall.h"

#include <nftables/libnftables.h>

#include <linux/capability.h>

#include "common/log.h"
#include "supervisor/privileges.h"

namespace supervisor {

void Firewall::ContextDeleter::operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }

Firewall::Firewall(bool enabled, std::string reason, std::optional<OperatorChain> accept_in)
    : enabled_(enabled), reason_(std::move(reason)), accept_in_(std::move(accept_in)) {
  if (!enabled_) return;
  // Checked first: without it libnftables prints its own complaint to stderr.
  if (!holds_capability(CAP_NET_ADMIN)) {
    enabled_ = false;
    reason_ = "the broker lacks CAP_NET_ADMIN (not running as root?)";
    return;
  }
  ctx_.reset(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx_) {
    disable("libnftables could not create a context");
    return;
  }
  // JSON output also makes libnftables read its input as JSON.
  nft_ctx_output_set_flags(ctx_.get(), NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  nft_ctx_buffer_output(ctx_.get());
  nft_ctx_buffer_error(ctx_.get());
}

Firewall::~Firewall() = default;

void Firewall::disable(const std::string& reason) {
  enabled_ = false;
  reason_ = reason;
  common::log::warn("firewall-disabled").kv("reason", reason);
}

bool Firewall::run(const std::string& commands, std::string& output, std::string& error) {
  int rc = nft_run_cmd_from_buffer(ctx_.get(), commands.c_str());
  output = nft_ctx_get_output_buffer(ctx_.get());
  error = nft_ctx_get_error_buffer(ctx_.get());
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  if (rc != 0 && error.empty()) error = "nftables rejected the transaction";
  return rc == 0;
}

std::vector<uint64_t> Firewall::current_tagged_handles() {
  if (!accept_in_) return {};
  nlohmann::json listing = {{"nftables", nlohmann::json::array({{{"list", {{"chain",
      {{"family", accept_in_->family}, {"table", accept_in_->table}, {"name", accept_in_->chain}}}}}}})}};
  std::string output;
  std::string error;
  if (!run(listing.dump(), output, error)) return {};
  return tagged_rule_handles(nlohmann::json::parse(output, nullptr, false));
}

bool Firewall::apply(const std::vector<FirewallPort>& ports, const std::vector<policy::EgressRule>& egress) {
  if (!enabled_) return false;
  std::string output;
  std::string error;
  auto batch = build_firewall_batch(ports, egress, accept_in_, current_tagged_handles());
  if (!run(batch.dump(), output, error)) {
    // Nothing changed in the kernel; screening continues in userspace.
    disable("nftables: " + error + (error.find("Operation not permitted") != std::string::npos
                                        ? " (the broker needs CAP_NET_ADMIN)"
                                        : ""));
    return false;
  }
  common::log::info("firewall-applied").kv("ports", ports.size()).kv("egress_entries", egress.size());
  return true;
}

void Firewall::remove() {
  if (!enabled_) return;
  std::string output;
  std::string error;
  if (!run(build_firewall_removal(accept_in_, current_tagged_handles()).dump(), output, error)) {
    common::log::error("firewall-remove-failed").kv("error", error);
    return;
  }
  common::log::info("firewall-removed");
}

}  // namespace supervisor
