// Scopes keep tenants apart: commands from clients of two scopes (alice,
// bob) and the unscoped operator, interleaved, with scopes removed, added
// back and given new quotas between them. A model of the whole keyspace
// (full names) is kept from the replies, and after every command:
// - a scoped client's replies show only its own part: GET, EXISTS, KEYS,
//   SCAN and DBSIZE agree with the model restricted to its prefix (KEYS and
//   SCAN return names without it); (un)subscribe frames name only channels it named or held;
// - a published message reaches exactly the channel's subscribers, each
//   under the name its own scope gives the channel (its full name less the
//   recipient's prefix), so never a client of another scope;
// - a scoped client's INFO says nothing about clients or stats, and counts
//   its scope's keys;
// - each scope's key count and charged bytes equal a recount, and its key
//   count the model's;
// - no write takes a scope past its quota, and a refused write changes
//   nothing (the key, the counts, the charge).
// No exception may escape.
//
// Input: four bytes of settings (the store's limit, alice's and bob's
// quotas, the KEYS budget), then operations: a byte for the client (six
// slots: two unscoped, two alice's, two bob's) and operation, a byte for the
// argument count, then each argument as a length byte (high bit: a word from
// a dictionary of names that cross scopes) and that many bytes.

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ipc/resp.h"
#include "store/commands.h"
#include "store/glob.h"
#include "store/keyspace.h"
#include "store/memory.h"
#include "store/pubsub.h"

namespace resp = ipc::resp;

namespace {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string bytes(size_t count) {
    count = std::min(count, size_ - std::min(pos_, size_));
    std::string out(reinterpret_cast<const char*>(data_ + pos_), count);
    pos_ += count;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

constexpr std::array<std::string_view, 15> kCommands = {
    "GET", "SET", "DEL", "EXISTS", "KEYS", "DBSIZE", "PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE",
    "PING", "INFO", "set", "keys", "COMMAND", "SCAN",
};
// Besides the commands: a client leaves and another takes its slot; its
// scope is removed; its scope is added back or given a new quota.
constexpr size_t kReconnect = kCommands.size();
constexpr size_t kRemoveScope = kCommands.size() + 1;
constexpr size_t kSetScope = kCommands.size() + 2;
constexpr size_t kOperations = kCommands.size() + 3;

const std::array<std::string, 28> kWords = {
    "x",       "news",       "alice:x", "bob:x",   "alice:news", "bob:news", "alice", "bob:",
    "1",       "\"v\"",      "[1,2]",   "NX",      "XX",         "*",        "*:*",   "alice:*",
    "bob:*",   "?",          "*x",      "keyspace", "memory",    "\"" + std::string(200, 'v') + "\"",
    "alice:alice:x", "", "0", "MATCH", "TYPE", "string",
};

const std::array<std::string, 3> kScopes = {"", "alice", "bob"};

std::string lower(std::string_view text) {
  std::string out;
  for (char c : text) out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::vector<resp::Value> frames_of(std::string_view reply) {
  std::vector<resp::Value> frames;
  resp::Limits limits;
  limits.max_bulk_bytes = 64 * 1024 * 1024;
  while (!reply.empty()) {
    resp::Value value;
    size_t consumed = 0;
    std::string error;
    FUZZ_CHECK(resp::parse_value(reply, limits, value, consumed, error) == resp::ParseStatus::complete);
    frames.push_back(std::move(value));
    reply.remove_prefix(consumed);
  }
  return frames;
}

bool is_error(const resp::Value& value) { return value.type == resp::Value::Type::error; }

struct Slot {
  store::ClientId id = 0;
  size_t scope = 0;  // index into kScopes
  bool connected = false;
};

class Run {
 public:
  explicit Run(Input& input)
      : input_(input),
        memory_(2048 + size_t{input.byte()} * 256),
        quotas_{0, size_t{input.byte()} * 64, size_t{input.byte()} * 64},
        limits_{.keys_work_budget = 64 + uint64_t{input.byte()} * 64},
        keyspace_(memory_),
        pubsub_(memory_, store::PubSubLimits{.max_subscriptions_per_client = 8, .max_channels = 32}),
        executor_(keyspace_, pubsub_, memory_, limits_) {
    for (size_t scope = 1; scope < kScopes.size(); ++scope) FUZZ_CHECK(keyspace_.set_scope(kScopes[scope], quotas_[scope]));
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].scope = i / 2;
      connect(slots_[i]);
    }
  }

  void go() {
    for (int operations = 0; !input_.empty() && operations < 256; ++operations) step();
    for (auto& slot : slots_) disconnect(slot);
    FUZZ_CHECK(pubsub_.channel_count() == 0);
    check_scopes();
  }

 private:
  std::string prefix(size_t scope) const { return scope == 0 ? "" : kScopes[scope] + ":"; }
  bool scope_present(size_t scope) const { return scope == 0 || keyspace_.scope(kScopes[scope]) != nullptr; }

  void connect(Slot& slot) {
    slot.id = next_id_++;
    slot.connected = true;
    executor_.client_connected(slot.id, kScopes[slot.scope]);
  }
  void disconnect(Slot& slot) {
    if (!slot.connected) return;
    executor_.client_disconnected(slot.id);
    FUZZ_CHECK(pubsub_.subscription_count(slot.id) == 0);
    slot.connected = false;
  }
  const Slot* slot_of(store::ClientId id) const {
    for (const auto& slot : slots_) {
      if (slot.connected && slot.id == id) return &slot;
    }
    return nullptr;
  }

  size_t model_count(const std::string& key_prefix) const {
    size_t count = 0;
    for (const auto& [key, value] : model_) count += key.starts_with(key_prefix) ? 1 : 0;
    return count;
  }

  void check_scopes() {
    FUZZ_CHECK(keyspace_.size() == model_.size());
    FUZZ_CHECK(keyspace_.charged_bytes() == keyspace_.recount_bytes());
    for (size_t scope = 1; scope < kScopes.size(); ++scope) {
      const store::ScopeUsage* usage = keyspace_.scope(kScopes[scope]);
      if (usage == nullptr) continue;
      FUZZ_CHECK(*usage == keyspace_.recount_scope(kScopes[scope]));
      FUZZ_CHECK(usage->keys == model_count(prefix(scope)));
    }
  }

  void step() {
    uint8_t head = input_.byte();
    Slot& slot = slots_[head % slots_.size()];
    size_t which = head / slots_.size() % kOperations;
    if (which == kReconnect) {
      if (!scope_present(slot.scope)) return;  // no listener to come through
      disconnect(slot);
      connect(slot);
      return;
    }
    if (which == kRemoveScope || which == kSetScope) {
      size_t scope = slot.scope == 0 ? 1 : slot.scope;
      if (which == kRemoveScope) {
        // As the server does: its clients go first, then its quota.
        for (auto& other : slots_) {
          if (other.scope == scope) disconnect(other);
        }
        keyspace_.remove_scope(kScopes[scope]);
      } else {
        bool was_present = scope_present(scope);
        quotas_[scope] = size_t{input_.byte()} * 64;
        FUZZ_CHECK(keyspace_.set_scope(kScopes[scope], quotas_[scope]));
        if (!was_present) {
          for (auto& other : slots_) {
            if (other.scope == scope) connect(other);
          }
        }
      }
      check_scopes();
      return;
    }
    std::vector<std::string> args{std::string(kCommands[which])};
    size_t count = input_.byte() % 5;
    for (size_t i = 0; i < count; ++i) {
      uint8_t length = input_.byte();
      args.push_back(length & 0x80 ? kWords[length % kWords.size()] : input_.bytes(length));
    }
    if (!slot.connected) return;  // its scope is gone, and it with it
    run(slot, args);
    check_scopes();
  }

  void run(const Slot& slot, const std::vector<std::string>& args) {
    const std::string mine = prefix(slot.scope);
    // Before, for the checks after.
    std::array<store::ScopeUsage, 3> usage_before{};
    for (size_t scope = 1; scope < kScopes.size(); ++scope) {
      if (const auto* usage = keyspace_.scope(kScopes[scope])) usage_before[scope] = *usage;
    }
    auto subscriptions_before = pubsub_.channels_of(slot.id);
    auto model_before = model_;

    std::string reply;
    store::Outcome outcome = executor_.execute(slot.id, args, reply);
    auto frames = frames_of(reply);
    FUZZ_CHECK(!frames.empty());
    const resp::Value& first = frames.front();
    std::string name = lower(args[0]);
    bool ok = !is_error(first);

    if (name == "set" && ok && first.type == resp::Value::Type::simple_string) {
      FUZZ_CHECK(args.size() >= 3);
      model_[mine + args[1]] = args[2];
    } else if (name == "del" && ok) {
      int64_t erased = 0;
      for (size_t i = 1; i < args.size(); ++i) erased += model_.erase(mine + args[i]) ? 1 : 0;
      FUZZ_CHECK(first.integer == erased);
    } else if (name == "get" && ok) {
      auto it = model_.find(mine + args[1]);
      if (it == model_.end()) {
        FUZZ_CHECK(first.type == resp::Value::Type::null);
      } else {
        FUZZ_CHECK(first.type == resp::Value::Type::bulk_string && first.text == it->second);
      }
    } else if (name == "exists" && ok) {
      int64_t found = 0;
      for (size_t i = 1; i < args.size(); ++i) found += model_.contains(mine + args[i]) ? 1 : 0;
      FUZZ_CHECK(first.integer == found);
    } else if (name == "dbsize" && ok) {
      FUZZ_CHECK(static_cast<size_t>(first.integer) == model_count(mine));
    } else if (name == "keys" && ok) {
      FUZZ_CHECK(first.type == resp::Value::Type::array);
      std::set<std::string> got;
      for (const auto& element : first.elements) FUZZ_CHECK(got.insert(element.text).second);
      std::set<std::string> expected;
      for (const auto& [key, value] : model_) {
        if (key.starts_with(mine) && store::glob_match(args[1], std::string_view(key).substr(mine.size()))) {
          expected.insert(key.substr(mine.size()));
        }
      }
      FUZZ_CHECK(got == expected);
    } else if (name == "scan" && ok) {
      // [cursor 0, names]: KEYS' names for MATCH's pattern, from cursor 0
      // and for strings; none otherwise.
      FUZZ_CHECK(first.type == resp::Value::Type::array && first.elements.size() == 2);
      FUZZ_CHECK(first.elements[0].text == "0");
      store::ScanOptions options;
      std::string error;
      FUZZ_CHECK(store::parse_scan_options(args, options, error));
      std::set<std::string> got;
      for (const auto& element : first.elements[1].elements) FUZZ_CHECK(got.insert(element.text).second);
      std::set<std::string> expected;
      for (const auto& [key, value] : model_) {
        if (options.from_start && options.strings && key.starts_with(mine) &&
            store::glob_match(options.pattern, std::string_view(key).substr(mine.size()))) {
          expected.insert(key.substr(mine.size()));
        }
      }
      FUZZ_CHECK(got == expected);
    } else if ((name == "subscribe" || name == "unsubscribe") && ok && first.type == resp::Value::Type::array) {
      // Each frame names a channel the client named, or (UNSUBSCRIBE without
      // arguments) one it held, without its prefix.
      for (const auto& frame : frames) {
        FUZZ_CHECK(frame.elements.size() == 3);
        const auto& channel = frame.elements[1];
        if (channel.type == resp::Value::Type::null) continue;
        if (args.size() > 1) {
          FUZZ_CHECK(std::find(args.begin() + 1, args.end(), channel.text) != args.end());
        } else {
          FUZZ_CHECK(std::find(subscriptions_before.begin(), subscriptions_before.end(), mine + channel.text) !=
                     subscriptions_before.end());
        }
      }
      for (const auto& channel : pubsub_.channels_of(slot.id)) FUZZ_CHECK(channel.starts_with(mine));
    } else if (name == "publish" && ok) {
      std::string channel = mine + args[1];
      std::set<store::ClientId> reached;
      for (const auto& delivery : outcome.deliveries) {
        auto message = frames_of(delivery.message);
        FUZZ_CHECK(message.size() == 1 && message[0].elements.size() == 3);
        const std::string& shown = message[0].elements[1].text;
        FUZZ_CHECK(!delivery.recipients.empty());
        for (store::ClientId id : delivery.recipients) {
          const Slot* recipient = slot_of(id);
          FUZZ_CHECK(recipient != nullptr);
          // Its own name for the channel: never another scope's.
          FUZZ_CHECK(prefix(recipient->scope) + shown == channel);
          FUZZ_CHECK(pubsub_.is_subscribed(id, channel));
          FUZZ_CHECK(reached.insert(id).second);
        }
      }
      auto subscribers = pubsub_.subscribers(channel);
      FUZZ_CHECK(std::set<store::ClientId>(subscribers.begin(), subscribers.end()) == reached);
      FUZZ_CHECK(static_cast<size_t>(first.integer) == reached.size());
    } else if (name == "info" && ok && slot.scope != 0) {
      const std::string& text = first.text;
      for (const char* absent : {"connected_clients", "# Clients", "# Stats", "pubsub_", "total_", "process_id"}) {
        FUZZ_CHECK(text.find(absent) == std::string::npos);
      }
      if (text.find("# Keyspace") != std::string::npos) {
        FUZZ_CHECK(text.find("db0:keys=" + std::to_string(model_count(mine)) + ",") != std::string::npos);
      }
    }
    if (name != "publish") FUZZ_CHECK(outcome.deliveries.empty());

    // Quotas: a write never takes a scope past its quota; a refused one
    // changes nothing.
    for (size_t scope = 1; scope < kScopes.size(); ++scope) {
      const store::ScopeUsage* usage = keyspace_.scope(kScopes[scope]);
      if (usage == nullptr) continue;
      if (usage_before[scope].charged_bytes <= usage->max_bytes) FUZZ_CHECK(usage->charged_bytes <= usage->max_bytes);
      if (outcome.rejected_out_of_memory) FUZZ_CHECK(*usage == usage_before[scope]);
    }
    if (outcome.rejected_out_of_memory) {
      FUZZ_CHECK(model_ == model_before);
      if (!outcome.over_quota_scope.empty()) {
        FUZZ_CHECK(outcome.over_quota_scope == std::string(store::scope_name_of_key(mine + args[1])));
      }
    }
    FUZZ_CHECK(memory_.used_bytes() <= memory_.max_bytes());
  }

  Input& input_;
  store::MemoryAccount memory_;
  std::array<size_t, 3> quotas_;
  store::ExecutorLimits limits_;
  store::Keyspace keyspace_;
  store::PubSub pubsub_;
  store::Executor executor_;
  std::array<Slot, 6> slots_{};
  store::ClientId next_id_ = 1;
  std::map<std::string, std::string> model_;  // every key, by its full name
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  Run run(input);
  run.go();
  return 0;
}
