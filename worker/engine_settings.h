#pragma once
// How a worker's engine realm is made and its internal modules are named,
// shared with the build-time stencil encoder (stencil_encoder_main.cc):
// stencils made under other settings would not be the modules the worker
// would have compiled itself.

#include <jsapi.h>

#include <string>
#include <string_view>

namespace worker {

extern const JSClass kWorkerGlobalClass;

// As in Node: SharedArrayBuffer and Atomics, WeakRef and FinalizationRegistry
// (without the non-standard cleanupSome).
JS::RealmOptions worker_realm_options();

// Stack traces name internal modules "internal/<key>".
std::string internal_module_filename(std::string_view key);

}  // namespace worker
