#include "store/pubsub.h"

#include <algorithm>

namespace store {
namespace {

// A channel's entry in the channel -> clients table.
size_t channel_bytes(size_t name_length) {
  return hash_node_bytes<PubSub::SubscriberMap>() + string_heap_bytes(name_length);
}

// One client on one channel: a node in the channel's client set, and a node
// with its own copy of the name in the client's channel set.
size_t subscription_bytes(size_t name_length) {
  return tree_node_bytes<ClientId>() + tree_node_bytes<std::string>() + string_heap_bytes(name_length);
}

// A subscribed client's entry in the client -> channels table.
constexpr size_t kClientBytes = hash_node_bytes<PubSub::ChannelMap>();

}  // namespace

PubSub::~PubSub() { memory_.update(MemoryAccount::Use::pubsub, charged_, 0); }

SubscribeResult PubSub::subscribe(ClientId client, std::string_view channel) {
  std::string name(channel);
  return subscribe(client, std::span<const std::string>(&name, 1));
}

SubscribeResult PubSub::subscribe(ClientId client, std::span<const std::string> channels) {
  auto client_it = channels_.find(client);
  const ChannelSet* mine = client_it == channels_.end() ? nullptr : &client_it->second;
  std::vector<std::string_view> fresh;
  for (const auto& channel : channels) {
    if (mine == nullptr || !mine->contains(channel)) fresh.emplace_back(channel);
  }
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  if (fresh.empty()) return SubscribeResult::ok;

  size_t have = mine == nullptr ? 0 : mine->size();
  if (fresh.size() > limits_.max_subscriptions_per_client - std::min(have, limits_.max_subscriptions_per_client)) {
    return SubscribeResult::too_many_subscriptions;
  }
  size_t new_channels = 0;
  size_t needed = 0;
  for (auto channel : fresh) {
    needed += subscription_bytes(channel.size());
    if (!subscribers_.contains(channel)) {
      ++new_channels;
      needed += channel_bytes(channel.size());
    }
  }
  if (new_channels > limits_.max_channels - std::min(channel_count(), limits_.max_channels)) {
    return SubscribeResult::too_many_channels;
  }
  needed += bucket_array_bytes_after_insert(subscribers_, new_channels);
  if (mine == nullptr) needed += kClientBytes + bucket_array_bytes_after_insert(channels_, 1);
  else needed += bucket_array_bytes(channels_);
  size_t buckets_before = bucket_bytes();
  if (!memory_.fits(needed, buckets_before)) return SubscribeResult::out_of_memory;

  prepare_insert(subscribers_, new_channels);
  if (mine == nullptr) {
    prepare_insert(channels_, 1);
    client_it = channels_.emplace(client, ChannelSet{}).first;
  }
  size_t added = mine == nullptr ? kClientBytes : 0;
  for (auto channel : fresh) {
    client_it->second.emplace(channel);
    auto it = subscribers_.find(channel);
    if (it == subscribers_.end()) {
      it = subscribers_.emplace(std::string(channel), std::set<ClientId>{}).first;
      added += channel_bytes(channel.size());
    }
    it->second.insert(client);
    added += subscription_bytes(channel.size());
  }
  charge(buckets_before, added + bucket_bytes());
  return SubscribeResult::ok;
}

bool PubSub::unsubscribe(ClientId client, std::string_view channel) {
  auto client_it = channels_.find(client);
  if (client_it == channels_.end()) return false;
  auto channel_it = client_it->second.find(channel);
  if (channel_it == client_it->second.end()) return false;
  size_t before = bucket_bytes() + subscription_bytes(channel.size());
  // Empty entries are dropped so the counts below stay exact and an idle
  // channel or client costs nothing.
  auto subscribers_it = subscribers_.find(channel);
  if (subscribers_it != subscribers_.end()) {
    subscribers_it->second.erase(client);
    if (subscribers_it->second.empty()) {
      before += channel_bytes(channel.size());
      subscribers_.erase(subscribers_it);
      shrink_after_erase(subscribers_);
    }
  }
  // `channel` may view the name being erased: it is not used past this point.
  client_it->second.erase(channel_it);
  if (client_it->second.empty()) {
    before += kClientBytes;
    channels_.erase(client_it);
    shrink_after_erase(channels_);
  }
  charge(before, bucket_bytes());
  return true;
}

void PubSub::remove_client(ClientId client) {
  for (const auto& channel : channels_of(client)) unsubscribe(client, channel);
}

size_t PubSub::subscription_count(ClientId client) const {
  auto it = channels_.find(client);
  return it == channels_.end() ? 0 : it->second.size();
}

bool PubSub::is_subscribed(ClientId client, std::string_view channel) const {
  auto it = channels_.find(client);
  return it != channels_.end() && it->second.contains(channel);
}

std::vector<std::string> PubSub::channels_of(ClientId client) const {
  auto it = channels_.find(client);
  if (it == channels_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<ClientId> PubSub::subscribers(std::string_view channel) const {
  auto it = subscribers_.find(channel);
  if (it == subscribers_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

size_t PubSub::recount_bytes() const {
  size_t total = bucket_bytes();
  for (const auto& [channel, clients] : subscribers_) {
    total += hash_node_bytes<SubscriberMap>() + string_heap_bytes(channel) +
             clients.size() * tree_node_bytes<ClientId>();
  }
  for (const auto& [client, channels] : channels_) {
    total += kClientBytes;
    for (const auto& channel : channels) total += tree_node_bytes<std::string>() + string_heap_bytes(channel);
  }
  return total;
}

size_t PubSub::bucket_bytes() const { return bucket_array_bytes(subscribers_) + bucket_array_bytes(channels_); }

void PubSub::charge(size_t before, size_t after) {
  charged_ = charged_ - before + after;
  memory_.update(MemoryAccount::Use::pubsub, before, after);
}

}  // namespace store
