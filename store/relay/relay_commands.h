#pragma once
// What the store relay does with each client request: pure, so every
// rewrite is unit-tested and fuzzed (tests/fuzz/relay_commands.cc).
//
// The relay serves the embedded store's commands with the embedded store's
// rules (store/command_rules.h), against a Redis or Valkey backend. Each
// client has a prefix on the backend: the configured one ("pb:"), plus
// "<tenant>:" in a tenant's scope. Every key and channel a client names goes
// to the backend with its prefix; whatever comes back (KEYS, channels of
// pushed messages) loses it again, so a client sees the names it used and
// nothing outside its prefix, exactly as with the embedded store.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/command_rules.h"

namespace store::relay {

enum class Action {
  reply,        // answer at once with `reply`
  forward,      // send `upstream` to the backend; its reply goes back as it is
  keys,         // SCAN the backend for `pattern`; reply with the names, prefix stripped
  scan,         // the same, the names in a SCAN reply (cursor 0: the whole answer at once)
  dbsize,       // SCAN the backend for `pattern`; reply with how many
  subscribe,    // the channels in `names`, as the client named them
  unsubscribe,  // the channels in `names` (empty: every channel of the client)
  info,         // the relay's own INFO, for the sections in `names`
};

struct Plan {
  Action action = Action::reply;
  std::string reply;
  bool close_connection = false;  // QUIT: close once the reply is written
  std::string upstream;           // the backend's command, RESP-encoded
  std::string pattern;            // SCAN's MATCH pattern on the backend
  std::vector<std::string> names;
};

// The relay's commands: the embedded store's (same names, arities and
// subscribe-mode rules).
std::span<const CommandRule> relay_command_rules();

// Plans one request (`args` not empty) of a client whose prefix on the
// backend is `prefix`, in subscribe mode or not.
Plan plan_request(std::span<const std::string> args, std::string_view prefix, bool subscribe_mode);

// `literal` as a Redis glob matching exactly itself: a backslash before
// each of * ? [ ] \ (the only characters Redis's matcher treats specially
// outside a bracket class).
std::string escape_glob(std::string_view literal);

// The backend pattern for a client's glob: the prefix, escaped, then the
// client's pattern as it is (a glob over the client's own names).
std::string backend_pattern(std::string_view prefix, std::string_view client_pattern);

// The client's name for a backend name, if it carries the prefix.
std::optional<std::string_view> strip_prefix(std::string_view name, std::string_view prefix);

}  // namespace store::relay
