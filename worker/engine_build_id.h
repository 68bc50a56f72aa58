#pragma once
// The identity of the SpiderMonkey library this process runs: its version and
// the GNU build id of the loaded libmozjs. Bytecode the engine encodes
// (stencils, its self-hosted code) is valid only for the same library, so
// this names it in the encoding (JS::SetProcessBuildIdOp) and lets the
// worker check the build-time stencils before it uses them
// (worker/prebuilt_stencils.h).

#include <string>

namespace worker {

// "JavaScript-C102.15.1/<build id in hex>"; the version alone when the
// library carries no build-id note.
const std::string& engine_build_id();

// Registers engine_build_id() as the engine's build id (once per process,
// before anything is encoded or decoded).
void register_engine_build_id();

}  // namespace worker
