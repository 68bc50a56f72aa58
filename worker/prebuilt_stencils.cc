#include "worker/prebuilt_stencils.h"

#include <cstdlib>
#include <string>

#include "worker/engine_build_id.h"

namespace worker {

const char* prebuilt_stencils_unused_reason() {
  static const char* const reason = []() -> const char* {
    const char* setting = std::getenv("PORTBROKER_PREBUILT_STENCILS");
    if (setting != nullptr && std::string_view(setting) == "0") return "turned off by PORTBROKER_PREBUILT_STENCILS=0";
    if (engine_build_id() != kPrebuiltEngineBuildId) return "made for another build of libmozjs";
    return nullptr;
  }();
  return reason;
}

JS::SelfHostedCache prebuilt_self_hosted() {
  if (prebuilt_stencils_unused_reason() != nullptr) return {};
  return JS::SelfHostedCache(kPrebuiltSelfHosted.data, kPrebuiltSelfHosted.size);
}

std::span<const uint8_t> prebuilt_module(std::string_view name) {
  if (prebuilt_stencils_unused_reason() != nullptr) return {};
  for (size_t i = 0; i < kPrebuiltModuleCount; ++i) {
    if (kPrebuiltModules[i].name == name) return {kPrebuiltModules[i].data, kPrebuiltModules[i].size};
  }
  return {};
}

}  // namespace worker
