// The filename grammar reads names any folder writer chooses.
// Properties: an entry point's parts rebuild exactly the name it came from,
// and its port is in range.

#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "policy/handler_filename.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  auto verdict = policy::classify_filename(name);
  if (verdict.kind == policy::FilenameVerdict::Kind::entry_point) {
    const auto& id = verdict.handler;
    FUZZ_CHECK(id.port >= 1);
    FUZZ_CHECK(!id.name.empty() && id.name.front() != '.');
    std::string rebuilt = id.name + "." + std::string(policy::transport_name(id.transport)) + "." +
                          std::to_string(id.port) + std::string(policy::kEntryPointSuffix);
    FUZZ_CHECK(rebuilt == name);
  } else if (verdict.kind == policy::FilenameVerdict::Kind::invalid) {
    FUZZ_CHECK(!verdict.reason.empty());
  }
  return 0;
}
