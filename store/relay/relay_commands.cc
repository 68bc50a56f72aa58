#include "store/relay/relay_commands.h"

#include "ipc/resp.h"
#include "store/commands.h"

namespace store::relay {
namespace {

namespace resp = ipc::resp;

Plan reply_with(std::string reply) {
  Plan plan;
  plan.reply = std::move(reply);
  return plan;
}

Plan error(std::string_view message) {
  std::string reply;
  resp::append_error(reply, message);
  return reply_with(std::move(reply));
}

// `name` and the arguments, each key (the positions in `keys`) with the prefix.
Plan forward(std::string_view name, std::span<const std::string> args, std::string_view prefix, size_t first_key,
             size_t last_key) {
  Plan plan;
  plan.action = Action::forward;
  resp::append_array_header(plan.upstream, args.size());
  resp::append_bulk_string(plan.upstream, name);
  for (size_t i = 1; i < args.size(); ++i) {
    if (i >= first_key && i <= last_key) {
      // Header and bytes of one bulk string, the prefix and the name together.
      std::string prefixed;
      prefixed.reserve(prefix.size() + args[i].size());
      prefixed.append(prefix).append(args[i]);
      resp::append_bulk_string(plan.upstream, prefixed);
    } else {
      resp::append_bulk_string(plan.upstream, args[i]);
    }
  }
  return plan;
}

}  // namespace

// The embedded store's own table: a client must not be able to tell which
// store serves it by what it may send.
std::span<const CommandRule> relay_command_rules() { return Executor::command_rules(); }

std::string escape_glob(std::string_view literal) {
  std::string out;
  out.reserve(literal.size());
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string backend_pattern(std::string_view prefix, std::string_view client_pattern) {
  std::string pattern = escape_glob(prefix);
  pattern.append(client_pattern);
  return pattern;
}

std::optional<std::string_view> strip_prefix(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  return name.substr(prefix.size());
}

Plan plan_request(std::span<const std::string> args, std::string_view prefix, bool subscribe_mode) {
  auto check = check_command(relay_command_rules(), args, subscribe_mode);
  if (check.rule == nullptr) return error(check.error);
  std::string_view name = check.rule->name;
  size_t last = args.size() - 1;
  if (name == "ping") {
    if (args.size() > 2) return error(arity_error("ping"));
    // The backend's subscriber connection is shared by every client, so a
    // subscriber's PING is answered here, in the frame Redis gives it.
    if (subscribe_mode) {
      std::string reply;
      resp::append_array_header(reply, 2);
      resp::append_bulk_string(reply, "pong");
      resp::append_bulk_string(reply, args.size() == 2 ? std::string_view(args[1]) : std::string_view());
      return reply_with(std::move(reply));
    }
    // Otherwise the backend answers: a PING through the relay says whether
    // the backend is there.
    return forward("PING", args, prefix, 1, 0);
  }
  if (name == "echo") {
    std::string reply;
    resp::append_bulk_string(reply, args[1]);
    return reply_with(std::move(reply));
  }
  if (name == "get") return forward("GET", args, prefix, 1, 1);
  if (name == "set") {
    bool only_if_absent = false;
    bool only_if_present = false;
    if (!parse_set_options(args, only_if_absent, only_if_present)) return error("ERR syntax error");
    if (!is_json(args[2])) return error(kNotJsonError);
    return forward("SET", args, prefix, 1, 1);
  }
  if (name == "del") return forward("DEL", args, prefix, 1, last);
  if (name == "exists") return forward("EXISTS", args, prefix, 1, last);
  if (name == "publish") {
    if (!is_json(args[2])) return error(kNotJsonError);
    return forward("PUBLISH", args, prefix, 1, 1);
  }
  if (name == "keys" || name == "dbsize") {
    Plan plan;
    plan.action = name == "keys" ? Action::keys : Action::dbsize;
    plan.pattern = backend_pattern(prefix, name == "keys" ? std::string_view(args[1]) : std::string_view("*"));
    return plan;
  }
  if (name == "scan") {
    ScanOptions options;
    std::string message;
    if (!parse_scan_options(args, options, message)) return error(message);
    if (!options.from_start || !options.strings) {
      std::string reply;
      append_scan_reply_header(reply, 0);
      return reply_with(std::move(reply));
    }
    Plan plan;
    plan.action = Action::scan;
    plan.pattern = backend_pattern(prefix, options.pattern);
    return plan;
  }
  if (name == "subscribe" || name == "unsubscribe") {
    Plan plan;
    plan.action = name == "subscribe" ? Action::subscribe : Action::unsubscribe;
    plan.names.assign(args.begin() + 1, args.end());
    return plan;
  }
  if (name == "quit") {
    Plan plan = reply_with("+OK\r\n");
    plan.close_connection = true;
    return plan;
  }
  if (name == "command") {
    std::string reply;
    append_command_reply(args, relay_command_rules().size(), reply);
    return reply_with(std::move(reply));
  }
  // info
  Plan plan;
  plan.action = Action::info;
  plan.names.assign(args.begin() + 1, args.end());
  return plan;
}

}  // namespace store::relay
