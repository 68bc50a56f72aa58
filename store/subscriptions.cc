#include "store/subscriptions.h"

#include <algorithm>
#include <utility>

#include "ipc/resp.h"

namespace store {

namespace resp = ipc::resp;

void append_pubsub_frame(std::string& out, std::string_view kind, std::string_view channel, size_t count) {
  resp::append_array_header(out, 3);
  resp::append_bulk_string(out, kind);
  resp::append_bulk_string(out, channel);
  resp::append_integer(out, static_cast<int64_t>(count));
}

bool subscribe_client(PubSub& pubsub, ClientId client, std::span<const std::string> named, std::string_view prefix,
                      std::string& reply, bool& out_of_memory) {
  out_of_memory = false;
  // The table's names for them: the client's own when it has no prefix.
  std::vector<std::string> prefixed;
  if (!prefix.empty()) {
    prefixed.reserve(named.size());
    for (const auto& channel : named) prefixed.push_back(std::string(prefix) + channel);
  }
  std::span<const std::string> channels = prefix.empty() ? named : std::span<const std::string>(prefixed);
  // Which arguments add a channel: the first naming of each one the client
  // lacks. Found by sorting (channel, position) pairs rather than with a set,
  // since a request may name a million channels.
  std::vector<bool> adds(channels.size());
  {
    std::vector<std::pair<std::string_view, size_t>> sorted;
    sorted.reserve(channels.size());
    for (size_t i = 0; i < channels.size(); ++i) sorted.emplace_back(channels[i], i);
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
      bool first = i == 0 || sorted[i].first != sorted[i - 1].first;
      adds[sorted[i].second] = first && !pubsub.is_subscribed(client, sorted[i].first);
    }
  }
  size_t count = pubsub.subscription_count(client);
  // All or nothing, so a refusal is one error reply rather than a frame per
  // channel with the count telling which ones took.
  switch (pubsub.subscribe(client, channels)) {
    case SubscribeResult::ok:
      break;
    case SubscribeResult::too_many_subscriptions:
      resp::append_error(reply, "ERR max subscriptions per client reached (" +
                                    std::to_string(pubsub.limits().max_subscriptions_per_client) + ")");
      return false;
    case SubscribeResult::too_many_channels:
      resp::append_error(reply, "ERR max number of channels reached (" + std::to_string(pubsub.limits().max_channels) + ")");
      return false;
    case SubscribeResult::out_of_memory:
      out_of_memory = true;
      resp::append_error(reply, kOutOfMemoryError);
      return false;
  }
  // Each frame carries the count as it was after that channel, as in Redis,
  // and the channel as the client named it.
  for (size_t i = 0; i < named.size(); ++i) {
    if (adds[i]) ++count;
    append_pubsub_frame(reply, "subscribe", named[i], count);
  }
  return true;
}

void unsubscribe_client(PubSub& pubsub, ClientId client, std::span<const std::string> named, std::string_view prefix,
                        std::string& reply, std::vector<std::string>* emptied) {
  auto leave = [&](const std::string& channel) {
    if (pubsub.unsubscribe(client, channel) && emptied != nullptr && !pubsub.has_subscribers(channel)) {
      emptied->push_back(channel);
    }
  };
  if (!named.empty()) {
    std::string channel;
    for (const auto& name : named) {
      channel.assign(prefix).append(name);
      leave(channel);
      append_pubsub_frame(reply, "unsubscribe", name, pubsub.subscription_count(client));
    }
    return;
  }
  auto channels = pubsub.channels_of(client);
  if (channels.empty()) {
    // Redis still confirms, with a null channel, so the client sees count 0.
    resp::append_array_header(reply, 3);
    resp::append_bulk_string(reply, "unsubscribe");
    resp::append_null(reply);
    resp::append_integer(reply, 0);
    return;
  }
  for (const auto& channel : channels) {
    leave(channel);
    // Every channel of a client with a prefix carries it.
    std::string_view name = channel;
    if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
    append_pubsub_frame(reply, "unsubscribe", name, pubsub.subscription_count(client));
  }
}

size_t build_deliveries(const PubSub& pubsub, std::string_view channel, std::string_view payload,
                        const std::function<std::string_view(ClientId)>& prefix_of, std::vector<Delivery>& out) {
  size_t delivered = 0;
  size_t first = out.size();
  std::vector<std::string_view> delivery_prefixes;  // the prefix each delivery's recipients share
  for (ClientId id : pubsub.subscribers(channel)) {
    std::string_view prefix = prefix_of(id);
    if (!channel.starts_with(prefix)) continue;  // cannot happen: it subscribed with its prefix
    size_t index = 0;
    while (index < delivery_prefixes.size() && delivery_prefixes[index] != prefix) ++index;
    if (index == delivery_prefixes.size()) {
      delivery_prefixes.push_back(prefix);
      Delivery& delivery = out.emplace_back();
      resp::append_array_header(delivery.message, 3);
      resp::append_bulk_string(delivery.message, "message");
      resp::append_bulk_string(delivery.message, channel.substr(prefix.size()));
      resp::append_bulk_string(delivery.message, payload);
    }
    out[first + index].recipients.push_back(id);
    ++delivered;
  }
  return delivered;
}

}  // namespace store
