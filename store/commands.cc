#include "store/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

#include "ipc/resp.h"

#ifndef PORTBROKER_STORE_VERSION
#define PORTBROKER_STORE_VERSION "unknown"
#endif

namespace resp = ipc::resp;

namespace store {
namespace {

// Redis caps what it quotes back from a client in error messages.
constexpr size_t kMaxQuotedBytes = 128;

constexpr std::string_view kOutOfMemory = "OOM command not allowed when used memory > 'maxmemory'.";

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Worded exactly as Redis 7 words it, so tools that recognise Redis errors keep working.
std::string unknown_command_error(std::span<const std::string> args) {
  std::string quoted;
  for (size_t i = 1; i < args.size() && quoted.size() < kMaxQuotedBytes; ++i) {
    size_t room = kMaxQuotedBytes - quoted.size();
    quoted += '\'';
    quoted += std::string_view(args[i]).substr(0, room);
    quoted += "' ";
  }
  return "ERR unknown command '" + std::string(std::string_view(args[0]).substr(0, kMaxQuotedBytes)) +
         "', with args beginning with: " + quoted;
}

std::string arity_error(std::string_view command_name) {
  return "ERR wrong number of arguments for '" + std::string(command_name) + "' command";
}

// Values must be JSON text because ctx.shared.get parses what it reads back;
// checking on the way in keeps one bad writer (redis-cli, say) from breaking
// every handler that reads the key.
bool is_json(std::string_view text) { return nlohmann::json::accept(text); }

void append_pubsub_frame(std::string& out, std::string_view kind, std::string_view channel, size_t count) {
  resp::append_array_header(out, 3);
  resp::append_bulk_string(out, kind);
  resp::append_bulk_string(out, channel);
  resp::append_integer(out, static_cast<int64_t>(count));
}

// Redis's bytesToHuman.
std::string human_bytes(size_t bytes) {
  static constexpr const char* kUnits[] = {"K", "M", "G", "T", "P"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f%s", value, kUnits[unit]);
  return buf;
}

}  // namespace

struct Executor::Command {
  std::string_view name;  // lowercase, as Redis names commands in errors
  int arity;              // Redis's convention: n = exactly n words, -n = at least n
  bool allowed_in_subscribe_mode;
  // Whether it runs for a scoped client. Every command here keeps a scoped
  // client to its own keys and channels; one added later that reaches the
  // store some other way (FLUSHALL, a SCAN without the prefix) must be made
  // to, or be marked false, so scoped clients get an error instead.
  bool scoped;
  void (Executor::*run)(Call&);
};

// One request as a command sees it.
struct Executor::Call {
  ClientId client;
  Args args;
  std::string& reply;
  Outcome& outcome;
  // The client's scope, empty for none, and the prefix of its names.
  std::string_view scope;
  std::string_view prefix;
  std::string buffer{};

  // The store's name for a key or channel the client named: its own name
  // when it is unscoped, else with the prefix (in a buffer reused by the
  // next call, so one at a time).
  std::string_view full(std::string_view name) {
    if (prefix.empty()) return name;
    buffer.assign(prefix);
    buffer.append(name);
    return buffer;
  }
};

std::span<const Executor::Command> Executor::command_table() {
  static const Command kCommands[] = {
      {"ping", -1, true, true, &Executor::ping},
      {"echo", 2, false, true, &Executor::echo},
      {"get", 2, false, true, &Executor::get},
      {"set", -3, false, true, &Executor::set},
      {"del", -2, false, true, &Executor::del},
      {"exists", -2, false, true, &Executor::exists},
      {"keys", 2, false, true, &Executor::keys},
      {"dbsize", 1, false, true, &Executor::dbsize},
      {"publish", 3, false, true, &Executor::publish},
      {"subscribe", -2, true, true, &Executor::subscribe},
      {"unsubscribe", -1, true, true, &Executor::unsubscribe},
      {"quit", -1, true, true, &Executor::quit},
      {"command", -1, false, true, &Executor::command},
      {"info", -1, false, true, &Executor::info},
  };
  return kCommands;
}

const Executor::Command* Executor::find_command(std::string_view name) {
  for (const auto& command : command_table()) {
    if (equals_ignoring_case(command.name, name)) return &command;
  }
  return nullptr;
}

Executor::Executor(Keyspace& keyspace, PubSub& pubsub, const MemoryAccount& memory, ExecutorLimits limits)
    : keyspace_(keyspace), pubsub_(pubsub), memory_(memory), limits_(limits) {}

void Executor::client_connected(ClientId client, std::string_view scope) {
  ++connected_clients_;
  ++connections_received_;
  if (!scope.empty()) scopes_[client] = ClientScope{std::string(scope), std::string(scope) + ":"};
}

void Executor::client_disconnected(ClientId client) {
  if (connected_clients_ > 0) --connected_clients_;
  pubsub_.remove_client(client);
  scopes_.erase(client);
}

const Executor::ClientScope* Executor::client_scope(ClientId client) const {
  if (scopes_.empty()) return nullptr;
  auto it = scopes_.find(client);
  return it == scopes_.end() ? nullptr : &it->second;
}

std::string_view Executor::scope_of(ClientId client) const {
  const ClientScope* scope = client_scope(client);
  return scope == nullptr ? std::string_view() : scope->name;
}

size_t Executor::client_state_bytes(std::string_view scope) {
  if (scope.empty()) return 0;
  return hash_node_bytes<decltype(scopes_)>() + string_heap_bytes(scope.size()) + string_heap_bytes(scope.size() + 1);
}

Outcome Executor::execute(ClientId client, std::span<const std::string> args, std::string& reply) {
  Outcome outcome;
  if (args.empty()) return outcome;
  // The checks run in Redis's order: existence, arity, then subscribe mode.
  const Command* command = find_command(args[0]);
  if (command == nullptr) {
    resp::append_error(reply, unknown_command_error(args));
    return outcome;
  }
  auto argc = static_cast<int64_t>(args.size());
  if ((command->arity > 0 && argc != command->arity) || argc < -command->arity) {
    resp::append_error(reply, arity_error(command->name));
    return outcome;
  }
  if (in_subscribe_mode(client) && !command->allowed_in_subscribe_mode) {
    resp::append_error(reply, "ERR Can't execute '" + std::string(command->name) +
                                  "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                                  "allowed in this context");
    return outcome;
  }
  Call call{client, args, reply, outcome, {}, {}};
  if (const ClientScope* scope = client_scope(client)) {
    if (!command->scoped) {
      resp::append_error(reply, "ERR '" + std::string(command->name) + "' is not available in a tenant's store");
      return outcome;
    }
    call.scope = scope->name;
    call.prefix = scope->prefix;
  }
  ++commands_processed_;
  (this->*command->run)(call);
  if (outcome.rejected_out_of_memory) ++rejected_out_of_memory_;
  return outcome;
}

void Executor::ping(Call& call) {
  Args args = call.args;
  if (args.size() > 2) {
    resp::append_error(call.reply, arity_error("ping"));
    return;
  }
  // In RESP2 a subscriber's replies share the stream with pushed messages, so
  // Redis answers its PING with a frame shaped like one.
  if (in_subscribe_mode(call.client)) {
    resp::append_array_header(call.reply, 2);
    resp::append_bulk_string(call.reply, "pong");
    resp::append_bulk_string(call.reply, args.size() == 2 ? std::string_view(args[1]) : std::string_view());
  } else if (args.size() == 2) {
    resp::append_bulk_string(call.reply, args[1]);
  } else {
    resp::append_simple_string(call.reply, "PONG");
  }
}

void Executor::echo(Call& call) { resp::append_bulk_string(call.reply, call.args[1]); }

void Executor::get(Call& call) {
  const std::string* value = keyspace_.find(call.full(call.args[1]));
  if (value == nullptr) {
    resp::append_null(call.reply);
  } else {
    resp::append_bulk_string(call.reply, *value);
  }
}

void Executor::set(Call& call) {
  Args args = call.args;
  bool only_if_absent = false;
  bool only_if_present = false;
  for (size_t i = 3; i < args.size(); ++i) {
    if (equals_ignoring_case(args[i], "nx") && !only_if_present) {
      only_if_absent = true;
    } else if (equals_ignoring_case(args[i], "xx") && !only_if_absent) {
      only_if_present = true;
    } else {
      resp::append_error(call.reply, "ERR syntax error");
      return;
    }
  }
  std::string_view key = call.full(args[1]);
  const std::string& value = args[2];
  if (!is_json(value)) {
    resp::append_error(call.reply, "ERR value is not valid JSON");
    return;
  }
  if ((only_if_absent || only_if_present) && keyspace_.contains(key) != only_if_present) {
    resp::append_null(call.reply);
    return;
  }
  switch (keyspace_.write(key, value)) {
    case WriteResult::ok:
      resp::append_simple_string(call.reply, "OK");
      return;
    case WriteResult::over_scope_quota:
      call.outcome.over_quota_scope = scope_name_of_key(key);
      break;
    case WriteResult::out_of_memory:
      break;
  }
  // Redis's own wording either way: to the client a scope's quota is its maxmemory.
  call.outcome.rejected_out_of_memory = true;
  resp::append_error(call.reply, kOutOfMemory);
}

void Executor::del(Call& call) {
  int64_t deleted = 0;
  for (size_t i = 1; i < call.args.size(); ++i) deleted += keyspace_.erase(call.full(call.args[i])) ? 1 : 0;
  resp::append_integer(call.reply, deleted);
}

void Executor::exists(Call& call) {
  // Like Redis, a key named twice counts twice.
  int64_t found = 0;
  for (size_t i = 1; i < call.args.size(); ++i) found += keyspace_.contains(call.full(call.args[i])) ? 1 : 0;
  resp::append_integer(call.reply, found);
}

void Executor::keys(Call& call) {
  // A scope's prefix holds no glob characters (a tenant's name cannot), so
  // matching `alice:` + pattern is matching the pattern after the prefix.
  auto keys = keyspace_.keys_matching(call.prefix, call.args[1], limits_.keys_work_budget);
  if (!keys) {
    resp::append_error(call.reply, "ERR KEYS gave up after " + std::to_string(limits_.keys_work_budget) +
                                       " matching steps; use a simpler pattern");
    return;
  }
  resp::append_array_header(call.reply, keys->size());
  for (auto key : *keys) resp::append_bulk_string(call.reply, key);
}

void Executor::dbsize(Call& call) {
  size_t count = keyspace_.size();
  if (!call.scope.empty()) {
    // Kept as keys come and go: no scan. A scope has its entry for as long
    // as it has clients (the server closes them before it goes).
    const ScopeUsage* usage = keyspace_.scope(call.scope);
    count = usage == nullptr ? 0 : usage->keys;
  }
  resp::append_integer(call.reply, static_cast<int64_t>(count));
}

void Executor::publish(Call& call) {
  const std::string& payload = call.args[2];
  if (!is_json(payload)) {
    resp::append_error(call.reply, "ERR value is not valid JSON");
    return;
  }
  std::string channel(call.full(call.args[1]));
  // Each subscriber sees the channel under its own name for it: without its
  // scope's prefix. A channel is reached only by its scope's clients and
  // unscoped ones, so there are at most two names.
  size_t delivered = 0;
  std::vector<std::string_view> delivery_prefixes;  // the prefix each delivery's recipients share
  for (ClientId id : pubsub_.subscribers(channel)) {
    const ClientScope* scope = client_scope(id);
    std::string_view prefix = scope == nullptr ? std::string_view() : std::string_view(scope->prefix);
    if (!std::string_view(channel).starts_with(prefix)) continue;  // cannot happen: it subscribed in its scope
    size_t index = 0;
    while (index < delivery_prefixes.size() && delivery_prefixes[index] != prefix) ++index;
    if (index == delivery_prefixes.size()) {
      delivery_prefixes.push_back(prefix);
      Delivery& delivery = call.outcome.deliveries.emplace_back();
      resp::append_array_header(delivery.message, 3);
      resp::append_bulk_string(delivery.message, "message");
      resp::append_bulk_string(delivery.message, std::string_view(channel).substr(prefix.size()));
      resp::append_bulk_string(delivery.message, payload);
    }
    call.outcome.deliveries[index].recipients.push_back(id);
    ++delivered;
  }
  resp::append_integer(call.reply, static_cast<int64_t>(delivered));
}

void Executor::subscribe(Call& call) {
  // All or nothing, so a refusal is one error reply rather than a frame per
  // channel with the count telling which ones took.
  auto named = call.args.subspan(1);
  // The store's names for them: the client's own when it is unscoped.
  std::vector<std::string> prefixed;
  if (!call.prefix.empty()) {
    prefixed.reserve(named.size());
    for (const auto& channel : named) prefixed.push_back(std::string(call.prefix) + channel);
  }
  std::span<const std::string> channels = call.prefix.empty() ? named : std::span<const std::string>(prefixed);
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
      adds[sorted[i].second] = first && !pubsub_.is_subscribed(call.client, sorted[i].first);
    }
  }
  size_t count = pubsub_.subscription_count(call.client);
  switch (pubsub_.subscribe(call.client, channels)) {
    case SubscribeResult::ok:
      break;
    case SubscribeResult::too_many_subscriptions:
      resp::append_error(call.reply, "ERR max subscriptions per client reached (" +
                                         std::to_string(pubsub_.limits().max_subscriptions_per_client) + ")");
      return;
    case SubscribeResult::too_many_channels:
      resp::append_error(call.reply, "ERR max number of channels reached (" +
                                         std::to_string(pubsub_.limits().max_channels) + ")");
      return;
    case SubscribeResult::out_of_memory:
      call.outcome.rejected_out_of_memory = true;
      resp::append_error(call.reply, kOutOfMemory);
      return;
  }
  // Each frame carries the count as it was after that channel, as in Redis,
  // and the channel as the client named it.
  for (size_t i = 0; i < named.size(); ++i) {
    if (adds[i]) ++count;
    append_pubsub_frame(call.reply, "subscribe", named[i], count);
  }
}

void Executor::unsubscribe(Call& call) {
  Args args = call.args;
  if (args.size() > 1) {
    for (size_t i = 1; i < args.size(); ++i) {
      pubsub_.unsubscribe(call.client, call.full(args[i]));
      append_pubsub_frame(call.reply, "unsubscribe", args[i], pubsub_.subscription_count(call.client));
    }
    return;
  }
  auto channels = pubsub_.channels_of(call.client);
  if (channels.empty()) {
    // Redis still confirms, with a null channel, so the client sees count 0.
    resp::append_array_header(call.reply, 3);
    resp::append_bulk_string(call.reply, "unsubscribe");
    resp::append_null(call.reply);
    resp::append_integer(call.reply, 0);
    return;
  }
  for (const auto& channel : channels) {
    pubsub_.unsubscribe(call.client, channel);
    // Every channel of a scoped client carries its prefix.
    std::string_view name = channel;
    if (name.starts_with(call.prefix)) name.remove_prefix(call.prefix.size());
    append_pubsub_frame(call.reply, "unsubscribe", name, pubsub_.subscription_count(call.client));
  }
}

void Executor::quit(Call& call) {
  resp::append_simple_string(call.reply, "OK");
  call.outcome.close_connection = true;
}

void Executor::command(Call& call) {
  Args args = call.args;
  // redis-cli asks for COMMAND DOCS when its interactive mode starts and carries
  // on with any array. With an empty one its `help <command>` shows nothing (an
  // error reply would make it fall back to its built-in help).
  if (args.size() == 1 || equals_ignoring_case(args[1], "docs")) {
    resp::append_array_header(call.reply, 0);
  } else if (equals_ignoring_case(args[1], "count") && args.size() == 2) {
    resp::append_integer(call.reply, static_cast<int64_t>(command_table().size()));
  } else {
    resp::append_error(call.reply, "ERR unknown subcommand '" +
                                       std::string(std::string_view(args[1]).substr(0, kMaxQuotedBytes)) +
                                       "'. Try COMMAND HELP.");
  }
}

void Executor::info(Call& call) {
  Args sections = call.args.subspan(1);
  resp::append_bulk_string(call.reply,
                           call.scope.empty() ? info_text(sections) : scoped_info_text(sections, call.scope));
}

namespace {

// INFO's text: the sections asked for (all when none is named), each a
// header and lines of `field:value`.
class InfoText {
 public:
  explicit InfoText(std::span<const std::string> sections) : sections_(sections) {}

  bool wanted(std::string_view section) const {
    if (sections_.empty()) return true;
    for (const auto& requested : sections_) {
      if (equals_ignoring_case(requested, section) || equals_ignoring_case(requested, "all") ||
          equals_ignoring_case(requested, "default") || equals_ignoring_case(requested, "everything")) {
        return true;
      }
    }
    return false;
  }
  void header(std::string_view name) {
    if (!text_.empty()) text_ += "\r\n";
    text_ += "# ";
    text_ += name;
    text_ += "\r\n";
  }
  void field(std::string_view key, const std::string& value) {
    text_ += key;
    text_ += ':';
    text_ += value;
    text_ += "\r\n";
  }
  // Redis omits db0 while it is empty; printing keys=0 lets a script read the
  // count without a special case.
  void keyspace(size_t keys) { field("db0", "keys=" + std::to_string(keys) + ",expires=0,avg_ttl=0"); }
  std::string take() { return std::move(text_); }

 private:
  std::span<const std::string> sections_;
  std::string text_;
};

}  // namespace

std::string Executor::info_text(Args sections) const {
  InfoText info(sections);
  if (info.wanted("server")) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
    info.header("Server");
    info.field("portbroker_store_version", PORTBROKER_STORE_VERSION);
    info.field("process_id", std::to_string(getpid()));
    info.field("uptime_in_seconds", std::to_string(uptime.count()));
  }
  if (info.wanted("clients")) {
    info.header("Clients");
    info.field("connected_clients", std::to_string(connected_clients_));
    info.field("pubsub_clients", std::to_string(pubsub_.subscribed_client_count()));
  }
  if (info.wanted("memory")) {
    info.header("Memory");
    // Redis's used_memory is what its allocator handed out; this is the
    // store's own estimate of the same (memory.h), the figure the limit
    // applies to, and its three parts.
    info.field("used_memory", std::to_string(memory_.used_bytes()));
    info.field("used_memory_human", human_bytes(memory_.used_bytes()));
    info.field("used_memory_keyspace", std::to_string(memory_.used_bytes(MemoryAccount::Use::keyspace)));
    info.field("used_memory_pubsub", std::to_string(memory_.used_bytes(MemoryAccount::Use::pubsub)));
    info.field("used_memory_clients", std::to_string(memory_.used_bytes(MemoryAccount::Use::clients)));
    info.field("maxmemory", std::to_string(memory_.max_bytes()));
    info.field("maxmemory_human", human_bytes(memory_.max_bytes()));
    info.field("maxmemory_policy", "noeviction");
  }
  if (info.wanted("stats")) {
    info.header("Stats");
    info.field("total_connections_received", std::to_string(connections_received_));
    info.field("total_commands_processed", std::to_string(commands_processed_));
    info.field("rejected_out_of_memory", std::to_string(rejected_out_of_memory_));
    info.field("pubsub_channels", std::to_string(pubsub_.channel_count()));
    info.field("pubsub_messages_dropped", std::to_string(pubsub_messages_dropped_));
  }
  if (info.wanted("keyspace")) {
    info.header("Keyspace");
    info.keyspace(keyspace_.size());
  }
  return info.take();
}

// A scoped client's INFO: only what is its own. No process id, no client or
// command counts (other tenants' activity), and memory as its scope's quota
// sees it: what its keys are charged, and the quota as maxmemory.
std::string Executor::scoped_info_text(Args sections, std::string_view scope) const {
  InfoText info(sections);
  ScopeUsage usage;
  if (const ScopeUsage* known = keyspace_.scope(scope)) usage = *known;
  if (info.wanted("server")) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
    info.header("Server");
    info.field("portbroker_store_version", PORTBROKER_STORE_VERSION);
    info.field("uptime_in_seconds", std::to_string(uptime.count()));
    info.field("scope", std::string(scope));
  }
  if (info.wanted("memory")) {
    info.header("Memory");
    info.field("used_memory", std::to_string(usage.charged_bytes));
    info.field("used_memory_human", human_bytes(usage.charged_bytes));
    info.field("maxmemory", std::to_string(usage.max_bytes));
    info.field("maxmemory_human", human_bytes(usage.max_bytes));
    info.field("maxmemory_policy", "noeviction");
  }
  if (info.wanted("keyspace")) {
    info.header("Keyspace");
    info.keyspace(usage.keys);
  }
  return info.take();
}

}  // namespace store
