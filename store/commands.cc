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
  void (Executor::*run)(ClientId, Args, std::string&, Outcome&);
};

std::span<const Executor::Command> Executor::command_table() {
  static const Command kCommands[] = {
      {"ping", -1, true, &Executor::ping},
      {"echo", 2, false, &Executor::echo},
      {"get", 2, false, &Executor::get},
      {"set", -3, false, &Executor::set},
      {"del", -2, false, &Executor::del},
      {"exists", -2, false, &Executor::exists},
      {"keys", 2, false, &Executor::keys},
      {"dbsize", 1, false, &Executor::dbsize},
      {"publish", 3, false, &Executor::publish},
      {"subscribe", -2, true, &Executor::subscribe},
      {"unsubscribe", -1, true, &Executor::unsubscribe},
      {"quit", -1, true, &Executor::quit},
      {"command", -1, false, &Executor::command},
      {"info", -1, false, &Executor::info},
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

void Executor::client_connected(ClientId) {
  ++connected_clients_;
  ++connections_received_;
}

void Executor::client_disconnected(ClientId client) {
  if (connected_clients_ > 0) --connected_clients_;
  pubsub_.remove_client(client);
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
  ++commands_processed_;
  (this->*command->run)(client, args, reply, outcome);
  if (outcome.rejected_out_of_memory) ++rejected_out_of_memory_;
  return outcome;
}

void Executor::ping(ClientId client, Args args, std::string& reply, Outcome&) {
  if (args.size() > 2) {
    resp::append_error(reply, arity_error("ping"));
    return;
  }
  // In RESP2 a subscriber's replies share the stream with pushed messages, so
  // Redis answers its PING with a frame shaped like one.
  if (in_subscribe_mode(client)) {
    resp::append_array_header(reply, 2);
    resp::append_bulk_string(reply, "pong");
    resp::append_bulk_string(reply, args.size() == 2 ? std::string_view(args[1]) : std::string_view());
  } else if (args.size() == 2) {
    resp::append_bulk_string(reply, args[1]);
  } else {
    resp::append_simple_string(reply, "PONG");
  }
}

void Executor::echo(ClientId, Args args, std::string& reply, Outcome&) { resp::append_bulk_string(reply, args[1]); }

void Executor::get(ClientId, Args args, std::string& reply, Outcome&) {
  const std::string* value = keyspace_.find(args[1]);
  if (value == nullptr) {
    resp::append_null(reply);
  } else {
    resp::append_bulk_string(reply, *value);
  }
}

void Executor::set(ClientId, Args args, std::string& reply, Outcome& outcome) {
  bool only_if_absent = false;
  bool only_if_present = false;
  for (size_t i = 3; i < args.size(); ++i) {
    if (equals_ignoring_case(args[i], "nx") && !only_if_present) {
      only_if_absent = true;
    } else if (equals_ignoring_case(args[i], "xx") && !only_if_absent) {
      only_if_present = true;
    } else {
      resp::append_error(reply, "ERR syntax error");
      return;
    }
  }
  const std::string& key = args[1];
  const std::string& value = args[2];
  if (!is_json(value)) {
    resp::append_error(reply, "ERR value is not valid JSON");
    return;
  }
  if ((only_if_absent || only_if_present) && keyspace_.contains(key) != only_if_present) {
    resp::append_null(reply);
    return;
  }
  if (!keyspace_.set(key, value)) {
    outcome.rejected_out_of_memory = true;
    resp::append_error(reply, kOutOfMemory);
    return;
  }
  resp::append_simple_string(reply, "OK");
}

void Executor::del(ClientId, Args args, std::string& reply, Outcome&) {
  int64_t deleted = 0;
  for (size_t i = 1; i < args.size(); ++i) deleted += keyspace_.erase(args[i]) ? 1 : 0;
  resp::append_integer(reply, deleted);
}

void Executor::exists(ClientId, Args args, std::string& reply, Outcome&) {
  // Like Redis, a key named twice counts twice.
  int64_t found = 0;
  for (size_t i = 1; i < args.size(); ++i) found += keyspace_.contains(args[i]) ? 1 : 0;
  resp::append_integer(reply, found);
}

void Executor::keys(ClientId, Args args, std::string& reply, Outcome&) {
  auto keys = keyspace_.keys_matching(args[1], limits_.keys_work_budget);
  if (!keys) {
    resp::append_error(reply, "ERR KEYS gave up after " + std::to_string(limits_.keys_work_budget) +
                                  " matching steps; use a simpler pattern");
    return;
  }
  resp::append_array_header(reply, keys->size());
  for (auto key : *keys) resp::append_bulk_string(reply, key);
}

void Executor::dbsize(ClientId, Args, std::string& reply, Outcome&) {
  resp::append_integer(reply, static_cast<int64_t>(keyspace_.size()));
}

void Executor::publish(ClientId, Args args, std::string& reply, Outcome& outcome) {
  const std::string& channel = args[1];
  const std::string& payload = args[2];
  if (!is_json(payload)) {
    resp::append_error(reply, "ERR value is not valid JSON");
    return;
  }
  outcome.recipients = pubsub_.subscribers(channel);
  if (!outcome.recipients.empty()) {
    resp::append_array_header(outcome.message, 3);
    resp::append_bulk_string(outcome.message, "message");
    resp::append_bulk_string(outcome.message, channel);
    resp::append_bulk_string(outcome.message, payload);
  }
  resp::append_integer(reply, static_cast<int64_t>(outcome.recipients.size()));
}

void Executor::subscribe(ClientId client, Args args, std::string& reply, Outcome& outcome) {
  // All or nothing, so a refusal is one error reply rather than a frame per
  // channel with the count telling which ones took.
  auto channels = args.subspan(1);
  // Which arguments add a channel: the first naming of each one the client
  // lacks. Found by sorting (channel, position) pairs rather than with a set,
  // since a request may name a million channels.
  std::vector<bool> adds(channels.size());
  {
    std::vector<std::pair<std::string_view, size_t>> named;
    named.reserve(channels.size());
    for (size_t i = 0; i < channels.size(); ++i) named.emplace_back(channels[i], i);
    std::sort(named.begin(), named.end());
    for (size_t i = 0; i < named.size(); ++i) {
      bool first = i == 0 || named[i].first != named[i - 1].first;
      adds[named[i].second] = first && !pubsub_.is_subscribed(client, named[i].first);
    }
  }
  size_t count = pubsub_.subscription_count(client);
  switch (pubsub_.subscribe(client, channels)) {
    case SubscribeResult::ok:
      break;
    case SubscribeResult::too_many_subscriptions:
      resp::append_error(reply, "ERR max subscriptions per client reached (" +
                                    std::to_string(pubsub_.limits().max_subscriptions_per_client) + ")");
      return;
    case SubscribeResult::too_many_channels:
      resp::append_error(reply,
                         "ERR max number of channels reached (" + std::to_string(pubsub_.limits().max_channels) + ")");
      return;
    case SubscribeResult::out_of_memory:
      outcome.rejected_out_of_memory = true;
      resp::append_error(reply, kOutOfMemory);
      return;
  }
  // Each frame carries the count as it was after that channel, as in Redis.
  for (size_t i = 0; i < channels.size(); ++i) {
    if (adds[i]) ++count;
    append_pubsub_frame(reply, "subscribe", channels[i], count);
  }
}

void Executor::unsubscribe(ClientId client, Args args, std::string& reply, Outcome&) {
  if (args.size() > 1) {
    for (size_t i = 1; i < args.size(); ++i) {
      pubsub_.unsubscribe(client, args[i]);
      append_pubsub_frame(reply, "unsubscribe", args[i], pubsub_.subscription_count(client));
    }
    return;
  }
  auto channels = pubsub_.channels_of(client);
  if (channels.empty()) {
    // Redis still confirms, with a null channel, so the client sees count 0.
    resp::append_array_header(reply, 3);
    resp::append_bulk_string(reply, "unsubscribe");
    resp::append_null(reply);
    resp::append_integer(reply, 0);
    return;
  }
  for (const auto& channel : channels) {
    pubsub_.unsubscribe(client, channel);
    append_pubsub_frame(reply, "unsubscribe", channel, pubsub_.subscription_count(client));
  }
}

void Executor::quit(ClientId, Args, std::string& reply, Outcome& outcome) {
  resp::append_simple_string(reply, "OK");
  outcome.close_connection = true;
}

void Executor::command(ClientId, Args args, std::string& reply, Outcome&) {
  // redis-cli asks for COMMAND DOCS when its interactive mode starts and carries
  // on with any array. With an empty one its `help <command>` shows nothing (an
  // error reply would make it fall back to its built-in help).
  if (args.size() == 1 || equals_ignoring_case(args[1], "docs")) {
    resp::append_array_header(reply, 0);
  } else if (equals_ignoring_case(args[1], "count") && args.size() == 2) {
    resp::append_integer(reply, static_cast<int64_t>(command_table().size()));
  } else {
    resp::append_error(reply, "ERR unknown subcommand '" +
                                  std::string(std::string_view(args[1]).substr(0, kMaxQuotedBytes)) +
                                  "'. Try COMMAND HELP.");
  }
}

void Executor::info(ClientId, Args args, std::string& reply, Outcome&) {
  resp::append_bulk_string(reply, info_text(args.subspan(1)));
}

std::string Executor::info_text(Args sections) const {
  auto wanted = [&](std::string_view section) {
    if (sections.empty()) return true;
    for (const auto& requested : sections) {
      if (equals_ignoring_case(requested, section) || equals_ignoring_case(requested, "all") ||
          equals_ignoring_case(requested, "default") || equals_ignoring_case(requested, "everything")) {
        return true;
      }
    }
    return false;
  };
  std::string text;
  auto header = [&](std::string_view name) {
    if (!text.empty()) text += "\r\n";
    text += "# ";
    text += name;
    text += "\r\n";
  };
  auto field = [&](std::string_view key, const std::string& value) {
    text += key;
    text += ':';
    text += value;
    text += "\r\n";
  };
  if (wanted("server")) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
    header("Server");
    field("portbroker_store_version", PORTBROKER_STORE_VERSION);
    field("process_id", std::to_string(getpid()));
    field("uptime_in_seconds", std::to_string(uptime.count()));
  }
  if (wanted("clients")) {
    header("Clients");
    field("connected_clients", std::to_string(connected_clients_));
    field("pubsub_clients", std::to_string(pubsub_.subscribed_client_count()));
  }
  if (wanted("memory")) {
    header("Memory");
    // Redis's used_memory is what its allocator handed out; this is the
    // store's own estimate of the same (memory.h), the figure the limit
    // applies to, and its three parts.
    field("used_memory", std::to_string(memory_.used_bytes()));
    field("used_memory_human", human_bytes(memory_.used_bytes()));
    field("used_memory_keyspace", std::to_string(memory_.used_bytes(MemoryAccount::Use::keyspace)));
    field("used_memory_pubsub", std::to_string(memory_.used_bytes(MemoryAccount::Use::pubsub)));
    field("used_memory_clients", std::to_string(memory_.used_bytes(MemoryAccount::Use::clients)));
    field("maxmemory", std::to_string(memory_.max_bytes()));
    field("maxmemory_human", human_bytes(memory_.max_bytes()));
    field("maxmemory_policy", "noeviction");
  }
  if (wanted("stats")) {
    header("Stats");
    field("total_connections_received", std::to_string(connections_received_));
    field("total_commands_processed", std::to_string(commands_processed_));
    field("rejected_out_of_memory", std::to_string(rejected_out_of_memory_));
    field("pubsub_channels", std::to_string(pubsub_.channel_count()));
    field("pubsub_messages_dropped", std::to_string(pubsub_messages_dropped_));
  }
  if (wanted("keyspace")) {
    header("Keyspace");
    // Redis omits db0 while it is empty; printing keys=0 lets a script read the
    // count without a special case.
    field("db0", "keys=" + std::to_string(keyspace_.size()) + ",expires=0,avg_ttl=0");
  }
  return text;
}

}  // namespace store
