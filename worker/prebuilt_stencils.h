#pragma once
// The engine's self-hosted code and the runtime's own modules (worker/js),
// parsed at build time by portbroker-stencils (stencil_encoder_main.cc) and
// compiled into the worker as SpiderMonkey stencils. Decoding one costs a
// tenth of parsing its source, and a worker used to spend most of its
// start-up parsing: about 11 ms for the self-hosted code and 18 ms for the
// runtime's modules (docs/performance.md).
//
// Stencils are bytecode for exactly one build of the engine: they are used
// only when the library loaded now is the one they were made with
// (worker/engine_build_id.h). After an update of libmozjs without a rebuild
// of portbroker, the worker parses the sources as before.

#include <js/Initialization.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace worker {

// What the build wrote (the generated prebuilt_stencils_data.cc).
struct PrebuiltStencil {
  std::string_view name;  // an internal module's key (internal_sources.h)
  const uint8_t* data;
  size_t size;
};
extern const char kPrebuiltEngineBuildId[];
extern const PrebuiltStencil kPrebuiltSelfHosted;
extern const PrebuiltStencil kPrebuiltModules[];
extern const size_t kPrebuiltModuleCount;

// Null when the stencils are used; otherwise why not: they were made for
// another build of libmozjs, or PORTBROKER_PREBUILT_STENCILS=0 (in the
// broker's environment) asks the workers to parse the sources, as they do
// after such an update (the test suite checks both ways agree).
const char* prebuilt_stencils_unused_reason();

// The self-hosted code's stencil for JS::InitSelfHostedCode; empty when unusable.
JS::SelfHostedCache prebuilt_self_hosted();

// The stencil of internal module `name`; empty when unusable or absent.
std::span<const uint8_t> prebuilt_module(std::string_view name);

}  // namespace worker
