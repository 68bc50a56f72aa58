#pragma once
// Who is subscribed to which channel. Clients are opaque ids handed out by the
// server; a client with at least one subscription is in subscribe mode.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/string_map.h"

namespace store {

using ClientId = uint64_t;

class PubSub {
 public:
  // Both return whether anything changed.
  bool subscribe(ClientId client, std::string_view channel);
  bool unsubscribe(ClientId client, std::string_view channel);
  void remove_client(ClientId client);

  size_t subscription_count(ClientId client) const;
  // The client's channels in byte order (UNSUBSCRIBE without arguments).
  std::vector<std::string> channels_of(ClientId client) const;
  // The channel's subscribers in id order, so deliveries are deterministic.
  std::vector<ClientId> subscribers(std::string_view channel) const;

  size_t channel_count() const { return subscribers_.size(); }
  size_t subscribed_client_count() const { return channels_.size(); }

 private:
  StringMap<std::set<ClientId>> subscribers_;                   // channel -> clients
  std::unordered_map<ClientId, std::set<std::string, std::less<>>> channels_;  // client -> channels
};

}  // namespace store
