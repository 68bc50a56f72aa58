#include "worker/prebuilt_stencils.h"

#include <string>

#include "worker/engine_build_id.h"

namespace worker {

bool prebuilt_stencils_usable() {
  static const bool usable = engine_build_id() == kPrebuiltEngineBuildId;
  return usable;
}

JS::SelfHostedCache prebuilt_self_hosted() {
  if (!prebuilt_stencils_usable()) return {};
  return JS::SelfHostedCache(kPrebuiltSelfHosted.data, kPrebuiltSelfHosted.size);
}

std::span<const uint8_t> prebuilt_module(std::string_view name) {
  if (!prebuilt_stencils_usable()) return {};
  for (size_t i = 0; i < kPrebuiltModuleCount; ++i) {
    if (kPrebuiltModules[i].name == name) return {kPrebuiltModules[i].data, kPrebuiltModules[i].size};
  }
  return {};
}

}  // namespace worker
