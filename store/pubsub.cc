#include "store/pubsub.h"

namespace store {

bool PubSub::subscribe(ClientId client, std::string_view channel) {
  auto& channels = channels_[client];
  if (!channels.emplace(channel).second) return false;
  auto it = subscribers_.find(channel);
  if (it == subscribers_.end()) it = subscribers_.emplace(std::string(channel), std::set<ClientId>{}).first;
  it->second.insert(client);
  return true;
}

bool PubSub::unsubscribe(ClientId client, std::string_view channel) {
  auto client_it = channels_.find(client);
  if (client_it == channels_.end()) return false;
  auto channel_it = client_it->second.find(channel);
  if (channel_it == client_it->second.end()) return false;
  client_it->second.erase(channel_it);
  // Empty entries are dropped so the counts below stay exact and an idle
  // channel or client costs nothing.
  if (client_it->second.empty()) channels_.erase(client_it);
  auto subscribers_it = subscribers_.find(channel);
  if (subscribers_it != subscribers_.end()) {
    subscribers_it->second.erase(client);
    if (subscribers_it->second.empty()) subscribers_.erase(subscribers_it);
  }
  return true;
}

void PubSub::remove_client(ClientId client) {
  auto client_it = channels_.find(client);
  if (client_it == channels_.end()) return;
  for (const auto& channel : client_it->second) {
    auto subscribers_it = subscribers_.find(channel);
    if (subscribers_it == subscribers_.end()) continue;
    subscribers_it->second.erase(client);
    if (subscribers_it->second.empty()) subscribers_.erase(subscribers_it);
  }
  channels_.erase(client_it);
}

size_t PubSub::subscription_count(ClientId client) const {
  auto it = channels_.find(client);
  return it == channels_.end() ? 0 : it->second.size();
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

}  // namespace store
