// Any store client may send any command sequence. This drives the Executor
// (with the keyspace and pub/sub registry) through sequences decoded from the
// input, with a small memory limit and small caps, so refusals are common.
// Properties, after every command:
// - the reply is whole RESP frames, as many as the command owes: one, or for
//   SUBSCRIBE one per channel (one error if refused), for UNSUBSCRIBE one per
//   channel named (or per channel held, at least one, without arguments),
//   the last of them carrying the client's subscription count; a PUBLISH's
//   message is one frame;
// - the accounted memory never exceeds the limit (only the executor's
//   structures are charged here), and each structure's running figure equals
//   a recount from scratch;
// - a write refused for memory changes nothing;
// - the caps on subscriptions and channels hold.
// At the end, every client leaving and every key deleted give back all but
// the tables' small bucket arrays. No exception may escape.
//
// Input: four bytes of settings (memory limit, KEYS budget, the two caps),
// then commands: a byte for the client and command, a byte for the argument
// count, then each argument as a length byte (high bit: a word from a small
// dictionary instead, so names collide) and that many bytes.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ipc/resp.h"
#include "store/commands.h"
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

constexpr std::array<std::string_view, 19> kCommands = {
    "GET", "SET", "DEL", "EXISTS", "KEYS", "DBSIZE", "PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE",
    "PING", "ECHO", "INFO", "COMMAND", "QUIT", "set", "subscribe", "NOPE", "", "SCAN",
};

const std::array<std::string, 23> kWords = {
    "a", "b", "key:1", "chan", "1", "\"x\"", "[1,2]", "{\"k\":null}", "NX", "XX", "*", "a*", "[a-c]*", "?",
    std::string(40, 'k'), "\"" + std::string(300, 'v') + "\"", "memory", "stats", "", "*a*a*a*b", "0", "MATCH", "COUNT",
};

// How many frames a reply must hold.
size_t frames_owed(const std::vector<std::string>& args, size_t channels_before, bool known, bool failed_early) {
  if (!known || failed_early) return 1;
  std::string name;
  for (char c : args[0]) name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (name == "subscribe") return args.size() - 1;
  if (name == "unsubscribe") return args.size() > 1 ? args.size() - 1 : std::max<size_t>(channels_before, 1);
  return 1;
}

// Splits `reply` into frames; every byte must belong to one.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  store::MemoryAccount memory(512 + size_t{input.byte()} * 64);
  store::ExecutorLimits limits{.keys_work_budget = uint64_t{input.byte()} * 16};
  store::PubSubLimits pubsub_limits{.max_subscriptions_per_client = 1 + input.byte() % 8u,
                                    .max_channels = 1 + input.byte() % 16u};
  {
    store::Keyspace keyspace(memory);
    store::PubSub pubsub(memory, pubsub_limits);
    store::Executor executor(keyspace, pubsub, memory, limits);
    std::array<store::ClientId, 3> clients = {1, 2, 3};
    store::ClientId next_id = 4;
    for (auto id : clients) executor.client_connected(id);

    for (int commands = 0; !input.empty() && commands < 256; ++commands) {
      uint8_t head = input.byte();
      store::ClientId& client = clients[head % 3];
      size_t which = head / 3 % (kCommands.size() + 1);
      if (which == kCommands.size()) {  // the client leaves; another takes its place
        executor.client_disconnected(client);
        FUZZ_CHECK(pubsub.subscription_count(client) == 0);
        client = next_id++;
        executor.client_connected(client);
        continue;
      }
      std::vector<std::string> args{std::string(kCommands[which])};
      size_t count = input.byte() % 6;
      for (size_t i = 0; i < count; ++i) {
        uint8_t length = input.byte();
        args.push_back(length & 0x80 ? kWords[length % kWords.size()] : input.bytes(length));
      }

      size_t used_before = memory.used_bytes();
      size_t keys_before = keyspace.size();
      size_t channels_before = pubsub.subscription_count(client);
      std::string reply;
      store::Outcome outcome = executor.execute(client, args, reply);

      auto frames = frames_of(reply);
      bool known = which < 16;
      bool failed_early = !frames.empty() && frames.size() == 1 && frames[0].type == resp::Value::Type::error;
      FUZZ_CHECK(frames.size() == frames_owed(args, channels_before, known, failed_early));
      // A (un)subscribe frame's count is the client's count after it: the
      // last one's is the count now.
      const resp::Value& last = frames.back();
      if (last.type == resp::Value::Type::array && last.elements.size() == 3 &&
          last.elements[2].type == resp::Value::Type::integer) {
        FUZZ_CHECK(static_cast<size_t>(last.elements[2].integer) == pubsub.subscription_count(client));
      }
      for (const auto& delivery : outcome.deliveries) {
        FUZZ_CHECK(!delivery.recipients.empty());
        auto message = frames_of(delivery.message);
        FUZZ_CHECK(message.size() == 1 && message[0].elements.size() == 3);
      }
      // Unscoped clients only: every subscriber sees the channel's one name.
      FUZZ_CHECK(outcome.deliveries.size() <= 1);

      FUZZ_CHECK(memory.used_bytes() <= memory.max_bytes());
      if (outcome.rejected_out_of_memory) {
        FUZZ_CHECK(memory.used_bytes() == used_before);
        FUZZ_CHECK(keyspace.size() == keys_before);
        FUZZ_CHECK(pubsub.subscription_count(client) == channels_before);
      }
      FUZZ_CHECK(keyspace.charged_bytes() == keyspace.recount_bytes());
      FUZZ_CHECK(pubsub.charged_bytes() == pubsub.recount_bytes());
      FUZZ_CHECK(memory.used_bytes() == keyspace.charged_bytes() + pubsub.charged_bytes());
      FUZZ_CHECK(pubsub.subscription_count(client) <= pubsub_limits.max_subscriptions_per_client);
      FUZZ_CHECK(pubsub.channel_count() <= pubsub_limits.max_channels);
    }

    for (auto id : clients) executor.client_disconnected(id);
    auto keys = keyspace.keys_matching("*", UINT64_MAX);
    FUZZ_CHECK(keys.has_value());
    std::vector<std::string> names(keys->begin(), keys->end());
    for (const auto& name : names) FUZZ_CHECK(keyspace.erase(name));
    FUZZ_CHECK(pubsub.channel_count() == 0);
    FUZZ_CHECK(keyspace.size() == 0);
    FUZZ_CHECK(memory.used_bytes() == keyspace.recount_bytes() + pubsub.recount_bytes());
    FUZZ_CHECK(memory.used_bytes() <= 3 * store::allocation_bytes(64 * sizeof(void*)));
  }
  // Each structure gives its charge back when it goes.
  FUZZ_CHECK(memory.used_bytes() == 0);
  return 0;
}
