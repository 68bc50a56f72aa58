#pragma once
// SUBSCRIBE, UNSUBSCRIBE and the delivery of published messages, as the
// embedded store and the store relay both run them over a PubSub table: the
// same limits, the same all-or-nothing refusals, the same frames. A client
// with a prefix (a tenant's scope; with the relay, every client) names
// channels without it, and sees them so in every frame.

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/pubsub.h"
#include "store/request_handler.h"

namespace store {

inline constexpr std::string_view kOutOfMemoryError = "OOM command not allowed when used memory > 'maxmemory'.";

// ["subscribe"|"unsubscribe", channel, count]
void append_pubsub_frame(std::string& out, std::string_view kind, std::string_view channel, size_t count);

// Subscribes `client` to `named` (its own names; each channel in the table
// is `prefix` + name), all or none. On success appends one frame per
// argument, as Redis does, and returns true; otherwise appends the error
// (`out_of_memory` says whether it was the memory limit).
bool subscribe_client(PubSub& pubsub, ClientId client, std::span<const std::string> named, std::string_view prefix,
                      std::string& reply, bool& out_of_memory);

// Unsubscribes `client` from `named`, or from every channel it has when
// `named` is empty, appending a frame for each. `emptied`, if given, gets
// the channels left with no subscriber.
void unsubscribe_client(PubSub& pubsub, ClientId client, std::span<const std::string> named, std::string_view prefix,
                        std::string& reply, std::vector<std::string>* emptied = nullptr);

// A message on `channel` (a table name) for its subscribers: one delivery
// per name the channel has for them, each recipient seeing it without its
// own prefix (`prefix_of`). Returns how many subscribers it reaches.
size_t build_deliveries(const PubSub& pubsub, std::string_view channel, std::string_view payload,
                        const std::function<std::string_view(ClientId)>& prefix_of, std::vector<Delivery>& out);

}  // namespace store
