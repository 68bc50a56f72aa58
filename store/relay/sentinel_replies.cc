#include "store/relay/sentinel_replies.h"

#include <charconv>
#include <vector>

#include "policy/store_backend.h"

namespace store::relay {
namespace {

using Type = ipc::resp::Value::Type;

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// At most 80 printable bytes of what a node said, for an error message.
std::string shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::optional<NodeAddress> make_address(std::string_view host, std::string_view port_text) {
  auto port = parse_port(port_text);
  if (!port || !policy::store_host_valid(host)) return std::nullopt;
  return NodeAddress{std::string(host), *port};
}

}  // namespace

std::string NodeAddress::to_string() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<NodeAddress> parse_master_address(const ipc::resp::Value& reply, std::string& error) {
  if (reply.type == Type::null) {
    error = "the sentinel does not know this master";
    return std::nullopt;
  }
  if (reply.type == Type::error) {
    error = "the sentinel answered: " + shown(reply.text);
    return std::nullopt;
  }
  if (reply.type != Type::array || reply.elements.size() != 2 || reply.elements[0].type != Type::bulk_string ||
      reply.elements[1].type != Type::bulk_string) {
    error = "the sentinel's answer is not [host, port]";
    return std::nullopt;
  }
  auto address = make_address(reply.elements[0].text, reply.elements[1].text);
  if (!address) {
    error = "the sentinel named an invalid address '" + shown(reply.elements[0].text) + "' port '" +
            shown(reply.elements[1].text) + "'";
    return std::nullopt;
  }
  return address;
}

std::optional<std::string> parse_role(const ipc::resp::Value& reply, std::string& error) {
  if (reply.type == Type::error) {
    error = "ROLE failed: " + shown(reply.text);
    return std::nullopt;
  }
  if (reply.type != Type::array || reply.elements.empty() || reply.elements[0].type != Type::bulk_string) {
    error = "ROLE's answer is not an array naming a role";
    return std::nullopt;
  }
  const std::string& role = reply.elements[0].text;
  if (role != "master" && role != "slave" && role != "sentinel") {
    error = "ROLE named an unknown role '" + shown(role) + "'";
    return std::nullopt;
  }
  return role;
}

std::optional<NodeAddress> parse_switch_master(std::string_view payload, std::string_view master_name) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < payload.size() && words.size() <= 5) {
    size_t end = payload.find(' ', i);
    if (end == std::string_view::npos) end = payload.size();
    words.push_back(payload.substr(i, end - i));
    i = end + 1;
  }
  if (words.size() != 5 || words[0] != master_name) return std::nullopt;
  return make_address(words[3], words[4]);
}

}  // namespace store::relay
