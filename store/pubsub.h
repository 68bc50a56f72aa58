#pragma once
// Who is subscribed to which channel. Clients are opaque ids handed out by the
// server; a client with at least one subscription is in subscribe mode.
//
// Every channel and subscription is charged to the store's memory limit (see
// memory.h), and two counts are capped besides, because a client could
// otherwise make the cost of PUBLISH and of its own disconnection as large as
// it likes: subscriptions per client and channels in all.

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/memory.h"
#include "store/string_map.h"

namespace store {

using ClientId = uint64_t;

// A worker multiplexes every subscription of its handler onto one connection,
// so the per-client cap is a handler's; ten thousand channels is far beyond
// what ctx.shared is used for and still cheap (about 130 bytes plus twice the
// name each). The total keeps PUBLISH's channel lookup and the store's
// bookkeeping bounded whatever the number of clients.
inline constexpr size_t kDefaultMaxSubscriptionsPerClient = 10'000;
inline constexpr size_t kDefaultMaxChannels = 100'000;

struct PubSubLimits {
  size_t max_subscriptions_per_client = kDefaultMaxSubscriptionsPerClient;
  size_t max_channels = kDefaultMaxChannels;
};

enum class SubscribeResult { ok, too_many_subscriptions, too_many_channels, out_of_memory };

class PubSub {
 public:
  explicit PubSub(MemoryAccount& memory, PubSubLimits limits = {}) : memory_(memory), limits_(limits) {}
  PubSub(const PubSub&) = delete;
  PubSub& operator=(const PubSub&) = delete;
  ~PubSub();

  // Subscribes `client` to each of `channels` (repeats and channels it already
  // has are fine), or, when that would pass a limit, to none of them.
  SubscribeResult subscribe(ClientId client, std::span<const std::string> channels);
  SubscribeResult subscribe(ClientId client, std::string_view channel);
  // Returns whether anything changed.
  bool unsubscribe(ClientId client, std::string_view channel);
  void remove_client(ClientId client);

  size_t subscription_count(ClientId client) const;
  bool is_subscribed(ClientId client, std::string_view channel) const;
  bool has_subscribers(std::string_view channel) const { return subscribers_.find(channel) != subscribers_.end(); }
  // The client's channels in byte order (UNSUBSCRIBE without arguments).
  std::vector<std::string> channels_of(ClientId client) const;
  // The channel's subscribers in id order, so deliveries are deterministic.
  std::vector<ClientId> subscribers(std::string_view channel) const;

  size_t channel_count() const { return subscribers_.size(); }
  size_t subscribed_client_count() const { return channels_.size(); }
  const PubSubLimits& limits() const { return limits_; }

  // What this registry is charged, kept up to date as it changes, and the same
  // figure computed afresh (tests check they agree).
  size_t charged_bytes() const { return charged_; }
  size_t recount_bytes() const;

  using SubscriberMap = StringMap<std::set<ClientId>>;  // channel -> clients
  using ChannelSet = std::set<std::string, std::less<>>;
  using ChannelMap = std::unordered_map<ClientId, ChannelSet>;  // client -> channels (ids are ours, not chosen)

 private:
  size_t bucket_bytes() const;
  void charge(size_t before, size_t after);

  MemoryAccount& memory_;
  PubSubLimits limits_;
  SubscriberMap subscribers_;
  ChannelMap channels_;
  size_t charged_ = 0;
};

}  // namespace store
