#pragma once
// The filename grammar: `<name>.tcp.<port>.port.js` and `<name>.udp.<port>.port.js`
// are entry points. A file ending in `.port.js` that fails the grammar is an
// attempt the operator should hear about; any other file is supporting code.

#include <cstdint>
#include <string>
#include <string_view>

namespace policy {

enum class Transport { tcp, udp };
std::string_view transport_name(Transport transport);

struct HandlerId {
  std::string name;
  Transport transport = Transport::tcp;
  uint16_t port = 0;
};

struct FilenameVerdict {
  enum class Kind {
    entry_point,     // `handler` is filled
    not_an_attempt,  // supporting file, manifest, editor temp file ...
    invalid,         // ends in .port.js but breaks the grammar; `reason` says how
  };
  Kind kind = Kind::not_an_attempt;
  HandlerId handler;
  std::string reason;
};

inline constexpr std::string_view kEntryPointSuffix = ".port.js";

FilenameVerdict classify_filename(std::string_view filename);

}  // namespace policy
