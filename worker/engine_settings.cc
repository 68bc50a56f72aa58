#include "worker/engine_settings.h"

namespace worker {

const JSClass kWorkerGlobalClass = {"global", JSCLASS_GLOBAL_FLAGS, &JS::DefaultGlobalClassOps, nullptr, nullptr,
                                    nullptr};

JS::RealmOptions worker_realm_options() {
  JS::RealmOptions options;
  options.creationOptions()
      .setSharedMemoryAndAtomicsEnabled(true)
      .setWeakRefsEnabled(JS::WeakRefSpecifier::EnabledWithoutCleanupSome);
  return options;
}

std::string internal_module_filename(std::string_view key) { return "internal/" + std::string(key); }

}  // namespace worker
