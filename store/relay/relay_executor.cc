#include "store/relay/relay_executor.h"

#include <chrono>
#include <unordered_set>

#include "common/keyed_hash.h"
#include "common/log.h"
#include "ipc/resp.h"
#include "store/command_rules.h"
#include "store/string_map.h"
#include "store/subscriptions.h"

#ifndef PORTBROKER_STORE_VERSION
#define PORTBROKER_STORE_VERSION "unknown"
#endif

namespace store::relay {
namespace {

namespace log = common::log;
namespace resp = ipc::resp;
using Type = resp::Value::Type;

// A message someone published around the relay that is not JSON would make
// ctx.shared's JSON.parse throw in every subscriber: dropped, and counted,
// logged once a minute at most.
constexpr uint64_t kNotJsonLogIntervalMs = 60 * 1000;

const char* command_name(Action scan_action) {
  return scan_action == Action::keys ? "KEYS" : scan_action == Action::scan ? "SCAN" : "DBSIZE";
}

uint64_t steady_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

// One KEYS, SCAN or DBSIZE: SCAN with MATCH over the client's prefix, a page at a
// time, so the backend never blocks on it (Redis's own KEYS would walk the
// whole keyspace in one go, every other client waiting) and the relay
// holds a bounded number of names.
struct RelayExecutor::Scan {
  ReplyTicket ticket;
  ClientId client = 0;
  Action action = Action::keys;  // keys, scan or dbsize
  std::string pattern;
  std::string prefix;
  std::string cursor = "0";
  // SCAN may return a key twice (while the server rehashes): names for
  // KEYS, hashes for DBSIZE's count.
  std::vector<std::string> names;
  StringMap<bool> seen_names;
  std::unordered_set<uint64_t> seen_hashes;
  size_t bytes = 0;
};

RelayExecutor::RelayExecutor(Backend& backend, PubSub& pubsub, const MemoryAccount& memory, RelayLimits limits)
    : backend_(backend), pubsub_(pubsub), memory_(memory), limits_(limits), started_ms_(steady_ms()) {}

std::string RelayExecutor::prefix_for(std::string_view scope) const {
  std::string prefix = backend_.prefix();
  if (!scope.empty()) prefix.append(scope).append(":");
  return prefix;
}

void RelayExecutor::configured() {
  configured_ = true;
  for (auto& [id, state] : clients_) state.prefix = prefix_for(state.scope);
  // What clients sent meanwhile (workers reconnect the moment a relay dies,
  // before its successor is configured) runs now.
  if (server_ != nullptr) server_->resume_all();
}

void RelayExecutor::client_connected(ClientId client, std::string_view scope) {
  ++connections_received_;
  ClientState state;
  state.scope = std::string(scope);
  state.prefix = prefix_for(scope);
  clients_[client] = std::move(state);
}

void RelayExecutor::client_disconnected(ClientId client) {
  std::string reply;
  std::vector<std::string> emptied;
  if (pubsub_.subscription_count(client) > 0) unsubscribe_client(pubsub_, client, {}, "", reply, &emptied);
  pubsub_.remove_client(client);
  backend_.unsubscribe(emptied);
  clients_.erase(client);
}

size_t RelayExecutor::client_state_bytes(std::string_view scope) const {
  return hash_node_bytes<decltype(clients_)>() + string_heap_bytes(scope.size()) +
         string_heap_bytes(backend_.prefix().size() + scope.size() + 1);
}

bool RelayExecutor::accepting(ClientId client) const {
  // Without its prefix a request cannot run, and an UNAVAILABLE answer to a
  // SUBSCRIBE would lose that subscription for good: it waits for configured().
  if (!configured_) return false;
  if (backend_.backlog_bytes() >= limits_.max_backlog_bytes) {
    waiting_for_backlog_ = true;
    return false;
  }
  auto it = clients_.find(client);
  return it == clients_.end() || (!it->second.scanning && it->second.inflight_bytes < limits_.max_client_inflight_bytes);
}

void RelayExecutor::answered(ClientId client, size_t bytes) {
  auto it = clients_.find(client);
  if (it != clients_.end()) {
    bool was_full = it->second.inflight_bytes >= limits_.max_client_inflight_bytes;
    it->second.inflight_bytes -= std::min(bytes, it->second.inflight_bytes);
    if (was_full && it->second.inflight_bytes < limits_.max_client_inflight_bytes) server_->resume(client);
  }
  // Everyone waits until the backlog is half gone, not just under the line,
  // so clients are not woken for one command each.
  if (waiting_for_backlog_ && backend_.backlog_bytes() < limits_.max_backlog_bytes / 2) {
    waiting_for_backlog_ = false;
    server_->resume_all();
  }
}

Outcome RelayExecutor::execute(ClientId client, std::span<const std::string> args, std::string& reply) {
  Outcome outcome;
  auto it = clients_.find(client);
  if (it == clients_.end()) return outcome;
  ClientState& state = it->second;
  ++commands_processed_;
  Plan plan = plan_request(args, state.prefix, pubsub_.subscription_count(client) > 0);
  if (!configured_ && plan.action != Action::reply && plan.action != Action::info) {
    // Until the supervisor's configuration arrives no prefix is known.
    reply += backend_.unavailable_reply();
    ++unavailable_replies_;
    return outcome;
  }
  switch (plan.action) {
    case Action::reply:
      reply += plan.reply;
      outcome.close_connection = plan.close_connection;
      break;
    case Action::forward:
      forward(client, state, plan.upstream);
      break;
    case Action::keys:
    case Action::scan:
    case Action::dbsize:
      start_scan(client, state, plan.action, std::move(plan.pattern));
      break;
    case Action::subscribe:
      subscribe(client, state, plan.names, reply, outcome);
      break;
    case Action::unsubscribe:
      unsubscribe(client, state, plan.names, reply);
      break;
    case Action::info:
      resp::append_bulk_string(reply, info_text(plan.names, state));
      break;
  }
  return outcome;
}

void RelayExecutor::forward(ClientId client, ClientState& state, std::string_view command) {
  ReplyTicket ticket = server_->defer_reply();
  size_t bytes = command.size();
  state.inflight_bytes += bytes;
  backend_.submit(command, [this, ticket, client, bytes](const resp::Value& reply, std::string_view raw) {
    if (reply.type == Type::error && reply.text.starts_with("UNAVAILABLE")) ++unavailable_replies_;
    server_->complete(ticket, raw);
    answered(client, bytes);
  });
}

void RelayExecutor::start_scan(ClientId client, ClientState& state, Action action, std::string pattern) {
  auto scan = std::make_shared<Scan>();
  scan->ticket = server_->defer_reply();
  scan->client = client;
  scan->action = action;
  scan->pattern = std::move(pattern);
  scan->prefix = state.prefix;
  state.scanning = true;
  scan_step(scan);
}

void RelayExecutor::scan_step(const std::shared_ptr<Scan>& scan) {
  std::string command;
  resp::append_command(command, {"SCAN", scan->cursor, "MATCH", scan->pattern, "COUNT", std::to_string(limits_.scan_count)});
  size_t bytes = command.size();
  auto it = clients_.find(scan->client);
  if (it != clients_.end()) it->second.inflight_bytes += bytes;
  backend_.submit(command, [this, scan, bytes](const resp::Value& reply, std::string_view raw) {
    answered(scan->client, bytes);
    scan_reply(scan, reply, raw);
  });
}

void RelayExecutor::scan_reply(const std::shared_ptr<Scan>& scan, const resp::Value& reply, std::string_view raw) {
  // A client gone: no point scanning on.
  if (!clients_.contains(scan->client)) return finish_scan(scan, {});
  if (reply.type == Type::error) {
    if (reply.text.starts_with("UNAVAILABLE")) ++unavailable_replies_;
    return finish_scan(scan, raw);
  }
  std::string error;
  if (reply.type != Type::array || reply.elements.size() != 2 || reply.elements[0].type != Type::bulk_string ||
      reply.elements[1].type != Type::array) {
    resp::append_error(error, "ERR the backend's SCAN reply is not [cursor, keys]");
    return finish_scan(scan, error);
  }
  for (const auto& key : reply.elements[1].elements) {
    if (key.type != Type::bulk_string) continue;
    auto name = strip_prefix(key.text, scan->prefix);
    if (!name) continue;  // MATCH keeps to the prefix; nothing else is the client's
    size_t cost = 0;
    bool names = scan->action != Action::dbsize;
    if (names) {
      if (!scan->seen_names.emplace(std::string(*name), true).second) continue;
      scan->names.emplace_back(*name);
      cost = 2 * name->size() + 64;  // the name twice (list and set) and the set's node
    } else {
      if (!scan->seen_hashes.insert(common::keyed_hash(name->data(), name->size())).second) continue;
      cost = 32;
    }
    scan->bytes += cost;
    scan_bytes_ += cost;
    size_t count = names ? scan->names.size() : scan->seen_hashes.size();
    if (count > limits_.max_scan_keys || scan->bytes > limits_.max_scan_bytes || scan_bytes_ > limits_.max_scan_bytes) {
      resp::append_error(error, std::string("ERR ") + command_name(scan->action) + " through the relay stops at " +
                                    std::to_string(limits_.max_scan_keys) + " keys (" +
                                    std::to_string(limits_.max_scan_bytes >> 20) + " MiB); use a narrower pattern");
      return finish_scan(scan, error);
    }
  }
  scan->cursor = reply.elements[0].text;
  if (scan->cursor != "0") return scan_step(scan);
  std::string result;
  if (scan->action != Action::dbsize) {
    if (scan->action == Action::scan) {
      append_scan_reply_header(result, scan->names.size());
    } else {
      resp::append_array_header(result, scan->names.size());
    }
    for (const auto& name : scan->names) resp::append_bulk_string(result, name);
  } else {
    resp::append_integer(result, static_cast<int64_t>(scan->seen_hashes.size()));
  }
  finish_scan(scan, result);
}

void RelayExecutor::finish_scan(const std::shared_ptr<Scan>& scan, std::string_view reply) {
  scan_bytes_ -= std::min(scan_bytes_, scan->bytes);
  scan->bytes = 0;
  scan->names.clear();
  scan->seen_names.clear();
  scan->seen_hashes.clear();
  auto it = clients_.find(scan->client);
  if (it == clients_.end()) return;
  it->second.scanning = false;
  server_->complete(scan->ticket, reply);
  server_->resume(scan->client);
}

void RelayExecutor::subscribe(ClientId client, ClientState& state, const std::vector<std::string>& names,
                              std::string& reply, Outcome& outcome) {
  std::string frames;
  bool out_of_memory = false;
  if (!subscribe_client(pubsub_, client, names, state.prefix, frames, out_of_memory)) {
    outcome.rejected_out_of_memory = out_of_memory;
    reply += frames;  // the refusal
    return;
  }
  if (!backend_.subscriber_usable()) {
    // Registered: subscribed on the backend with every other channel when it
    // returns, before it is called up.
    reply += frames;
    return;
  }
  // Confirmed once the backend confirmed, so a message published after the
  // confirmation reaches this client (ctx.shared's `ready`).
  std::vector<std::string> channels;
  channels.reserve(names.size());
  for (const auto& name : names) channels.push_back(state.prefix + name);
  ReplyTicket ticket = server_->defer_reply();
  backend_.subscribe(channels, [this, ticket, frames = std::move(frames)] { server_->complete(ticket, frames); });
}

void RelayExecutor::unsubscribe(ClientId client, ClientState& state, const std::vector<std::string>& names,
                                std::string& reply) {
  std::vector<std::string> emptied;
  unsubscribe_client(pubsub_, client, names, state.prefix, reply, &emptied);
  backend_.unsubscribe(emptied);
}

void RelayExecutor::on_message(std::string_view channel, std::string_view payload) {
  if (!pubsub_.has_subscribers(channel)) return;
  if (!is_json(payload)) {
    ++messages_not_json_;
    ++not_json_unlogged_;
    uint64_t now = steady_ms();
    if (not_json_logged_ms_ == 0 || now - not_json_logged_ms_ >= kNotJsonLogIntervalMs) {
      not_json_logged_ms_ = now;
      log::warn("store-message-not-json").kv("channel", channel.substr(0, 128)).kv("dropped", not_json_unlogged_);
      not_json_unlogged_ = 0;
    }
    return;
  }
  std::vector<Delivery> deliveries;
  build_deliveries(
      pubsub_, channel, payload,
      [this](ClientId id) {
        auto it = clients_.find(id);
        return it == clients_.end() ? std::string_view() : std::string_view(it->second.prefix);
      },
      deliveries);
  server_->deliver(deliveries);
}

std::vector<std::string> RelayExecutor::channels() const {
  std::vector<std::string> all;
  for (const auto& [id, state] : clients_) {
    for (auto& channel : pubsub_.channels_of(id)) all.push_back(std::move(channel));
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

std::string RelayExecutor::info_text(const std::vector<std::string>& sections, const ClientState& state) const {
  InfoText info(sections);
  const auto& backend = backend_.state();
  bool operator_view = state.scope.empty();
  if (info.wanted("server")) {
    info.header("Server");
    info.field("portbroker_store_version", PORTBROKER_STORE_VERSION);
    info.field("mode", "relay");
    info.field("uptime_in_seconds", std::to_string((steady_ms() - started_ms_) / 1000));
    if (!operator_view) info.field("scope", state.scope);
  }
  if (info.wanted("backend")) {
    info.header("Backend");
    info.field("backend_state", ipc::store_backend_status_name(backend.state));
    // Where it is and why it failed are the operator's to know.
    if (operator_view) {
      info.field("backend_kind", backend_.sentinel() ? "sentinel" : "redis");
      if (backend_.sentinel()) info.field("backend_master_name", backend_.master_name());
      info.field("backend_address", backend.address);
      info.field("backend_last_error", backend.error);
      info.field("backend_outages", std::to_string(backend.outages));
      info.field("backend_failovers", std::to_string(backend.failovers));
      info.field("key_prefix", backend_.prefix());
    }
  }
  if (operator_view && info.wanted("clients")) {
    info.header("Clients");
    info.field("connected_clients", std::to_string(clients_.size()));
    info.field("pubsub_clients", std::to_string(pubsub_.subscribed_client_count()));
  }
  if (operator_view && info.wanted("memory")) {
    info.header("Memory");
    // The relay's own: its clients' buffers and its subscriber table.
    info.field("used_memory", std::to_string(memory_.used_bytes()));
    info.field("used_memory_human", human_bytes(memory_.used_bytes()));
    info.field("maxmemory", std::to_string(memory_.max_bytes()));
  }
  if (operator_view && info.wanted("stats")) {
    info.header("Stats");
    info.field("total_connections_received", std::to_string(connections_received_));
    info.field("total_commands_processed", std::to_string(commands_processed_));
    info.field("unavailable_replies", std::to_string(unavailable_replies_));
    info.field("pubsub_channels", std::to_string(pubsub_.channel_count()));
    info.field("pubsub_messages_dropped", std::to_string(messages_dropped_));
    info.field("pubsub_messages_not_json", std::to_string(messages_not_json_));
  }
  return info.take();
}

}  // namespace store::relay
