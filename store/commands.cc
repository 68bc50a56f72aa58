#include "store/commands.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "ipc/resp.h"
#include "store/subscriptions.h"

#ifndef PORTBROKER_STORE_VERSION
#define PORTBROKER_STORE_VERSION "unknown"
#endif

namespace resp = ipc::resp;

namespace store {

struct Executor::Command {
  CommandRule rule;
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

// The rules (name, arity, subscribe mode) are the store relay's too
// (store/relay/relay_commands.cc), which must keep to the same table.
std::span<const Executor::Command> Executor::command_table() {
  static const Command kCommands[] = {
      {{"ping", -1, true}, true, &Executor::ping},
      {{"echo", 2, false}, true, &Executor::echo},
      {{"get", 2, false}, true, &Executor::get},
      {{"set", -3, false}, true, &Executor::set},
      {{"del", -2, false}, true, &Executor::del},
      {{"exists", -2, false}, true, &Executor::exists},
      {{"keys", 2, false}, true, &Executor::keys},
      {{"scan", -2, false}, true, &Executor::scan},
      {{"dbsize", 1, false}, true, &Executor::dbsize},
      {{"publish", 3, false}, true, &Executor::publish},
      {{"subscribe", -2, true}, true, &Executor::subscribe},
      {{"unsubscribe", -1, true}, true, &Executor::unsubscribe},
      {{"quit", -1, true}, true, &Executor::quit},
      {{"command", -1, false}, true, &Executor::command},
      {{"info", -1, false}, true, &Executor::info},
  };
  return kCommands;
}

std::span<const CommandRule> Executor::command_rules() {
  static const auto kRules = [] {
    std::vector<CommandRule> rules;
    for (const auto& command : command_table()) rules.push_back(command.rule);
    return rules;
  }();
  return kRules;
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

size_t Executor::state_bytes(std::string_view scope) {
  if (scope.empty()) return 0;
  return hash_node_bytes<decltype(scopes_)>() + string_heap_bytes(scope.size()) + string_heap_bytes(scope.size() + 1);
}

Outcome Executor::execute(ClientId client, std::span<const std::string> args, std::string& reply) {
  Outcome outcome;
  if (args.empty()) return outcome;
  // The checks run in Redis's order: existence, arity, then subscribe mode.
  auto check = check_command(command_rules(), args, in_subscribe_mode(client));
  if (check.rule == nullptr) {
    resp::append_error(reply, check.error);
    return outcome;
  }
  const Command* command = &command_table()[static_cast<size_t>(check.rule - command_rules().data())];
  Call call{client, args, reply, outcome, {}, {}};
  if (const ClientScope* scope = client_scope(client)) {
    if (!command->scoped) {
      resp::append_error(reply, "ERR '" + std::string(command->rule.name) + "' is not available in a tenant's store");
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
  if (!parse_set_options(args, only_if_absent, only_if_present)) {
    resp::append_error(call.reply, "ERR syntax error");
    return;
  }
  std::string_view key = call.full(args[1]);
  const std::string& value = args[2];
  if (!is_json(value)) {
    resp::append_error(call.reply, kNotJsonError);
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
  resp::append_error(call.reply, kOutOfMemoryError);
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

std::optional<std::vector<std::string_view>> Executor::keys_matching(Call& call, std::string_view pattern,
                                                                    std::string_view command) {
  // A scope's prefix holds no glob characters (a tenant's name cannot), so
  // matching `alice:` + pattern is matching the pattern after the prefix.
  auto keys = keyspace_.keys_matching(call.prefix, pattern, limits_.keys_work_budget);
  if (!keys) {
    resp::append_error(call.reply, "ERR " + std::string(command) + " gave up after " +
                                       std::to_string(limits_.keys_work_budget) + " matching steps; use a simpler pattern");
  }
  return keys;
}

void Executor::keys(Call& call) {
  auto keys = keys_matching(call, call.args[1], "KEYS");
  if (!keys) return;
  resp::append_array_header(call.reply, keys->size());
  for (auto key : *keys) resp::append_bulk_string(call.reply, key);
}

void Executor::scan(Call& call) {
  ScanOptions options;
  std::string error;
  if (!parse_scan_options(call.args, options, error)) {
    resp::append_error(call.reply, error);
    return;
  }
  if (!options.from_start || !options.strings) {
    append_scan_reply_header(call.reply, 0);
    return;
  }
  auto keys = keys_matching(call, options.pattern, "SCAN");
  if (!keys) return;
  append_scan_reply_header(call.reply, keys->size());
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
    resp::append_error(call.reply, kNotJsonError);
    return;
  }
  std::string channel(call.full(call.args[1]));
  // Each subscriber sees the channel under its own name for it: without its
  // scope's prefix. A channel is reached only by its scope's clients and
  // unscoped ones, so there are at most two names.
  size_t delivered = build_deliveries(
      pubsub_, channel, payload,
      [this](ClientId id) {
        const ClientScope* scope = client_scope(id);
        return scope == nullptr ? std::string_view() : std::string_view(scope->prefix);
      },
      call.outcome.deliveries);
  resp::append_integer(call.reply, static_cast<int64_t>(delivered));
}

void Executor::subscribe(Call& call) {
  bool out_of_memory = false;
  subscribe_client(pubsub_, call.client, call.args.subspan(1), call.prefix, call.reply, out_of_memory);
  call.outcome.rejected_out_of_memory = out_of_memory;
}

void Executor::unsubscribe(Call& call) {
  unsubscribe_client(pubsub_, call.client, call.args.subspan(1), call.prefix, call.reply);
}

void Executor::quit(Call& call) {
  resp::append_simple_string(call.reply, "OK");
  call.outcome.close_connection = true;
}

void Executor::command(Call& call) { append_command_reply(call.args, command_table().size(), call.reply); }

void Executor::info(Call& call) {
  Args sections = call.args.subspan(1);
  resp::append_bulk_string(call.reply,
                           call.scope.empty() ? info_text(sections) : scoped_info_text(sections, call.scope));
}

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
