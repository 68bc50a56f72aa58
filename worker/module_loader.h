#pragma once
// ES module loading for a worker. Three kinds of module:
//  - user: files of the handlers folder. Relative imports resolve beneath the
//    folder only, enforced by the kernel (openat2 RESOLVE_BENEATH), so `..`,
//    absolute paths and symlinks pointing out are refused without a race.
//  - builtin: `node:events` and friends, thin facades over internal modules.
//  - internal: the runtime's own JavaScript, compiled into the binary. Only
//    internal and builtin modules may import internal ones.

#include <jsapi.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/unique_fd.h"
#include "ipc/messages.h"

namespace worker {

inline constexpr size_t kMaxModuleBytes = 16 * 1024 * 1024;

// native.loadInternal(name): an internal module's namespace, compiled and
// evaluated now if it was not already: for parts of the runtime library that
// few workers use, loaded when first needed instead of at every start.
bool install_module_api(JSContext* cx, JS::HandleObject native);

class ModuleLoader {
 public:
  explicit ModuleLoader(JSContext* cx);
  ~ModuleLoader();
  ModuleLoader(const ModuleLoader&) = delete;
  ModuleLoader& operator=(const ModuleLoader&) = delete;

  // The handlers folder that user modules resolve beneath (opened by the
  // confinement, before seccomp), and its path as the host sees it (for
  // import.meta.url and messages).
  void set_handlers_dir(common::UniqueFd folder, const std::string& display_path);

  // Compiles, links and evaluates a module; returns its record, with the
  // evaluation promise (top-level await) in `evaluation`. On failure returns
  // nullptr with the exception pending.
  JSObject* load_internal(std::string_view name, JS::MutableHandleValue evaluation);
  JSObject* load_user(std::string_view relative_path, JS::MutableHandleValue evaluation);
  // Every handler file read so far, stamped as read (for change detection).
  const std::vector<ipc::ModuleFile>& loaded_files() const { return loaded_files_; }
  // Compiles and links a handler module (and its imports) without evaluating it.
  JSObject* link_user(std::string_view relative_path);
  // The current text of a file of the handlers folder, read as imports are
  // but not recorded as loaded (assert quotes a failed call from it).
  bool read_source(const std::string& relative_path, std::string& contents) const;
  // Called with the handler files a dynamic import() read, once it has
  // (so the supervisor watches them as it watches static imports).
  void set_new_files_listener(std::function<void(const std::vector<ipc::ModuleFile>&)> listener) {
    new_files_listener_ = std::move(listener);
  }

 private:
  enum class Kind { user, builtin, internal };
  struct Record {
    Kind kind;
    std::string key;  // path relative to the handlers folder, or internal name
    std::unique_ptr<JS::PersistentRootedObject> module;
  };

  static JSObject* resolve_hook(JSContext* cx, JS::HandleValue referrer_private, JS::HandleObject request);
  static bool metadata_hook(JSContext* cx, JS::HandleValue module_private, JS::HandleObject meta);
  // import(): resolved as a static import is, then linked and evaluated;
  // the promise settles with the evaluation's.
  static bool dynamic_import_hook(JSContext* cx, JS::HandleValue referencing_private, JS::HandleObject request,
                                  JS::HandleObject promise);

  JSObject* resolve(const Record& referrer, std::string_view specifier);
  JSObject* get_or_compile(Kind kind, const std::string& key, const std::string& referrer_key,
                           std::string_view specifier);
  JSObject* compile(Kind kind, const std::string& key, std::string_view source);
  // An internal module from the build's stencil (prebuilt_stencils.h); null
  // when there is none for this engine, and the caller compiles the source.
  JSObject* from_prebuilt_stencil(const std::string& key);
  JSObject* add_record(Kind kind, const std::string& key, JS::HandleObject module);
  JSObject* link_and_evaluate(JS::HandleObject module, JS::MutableHandleValue evaluation);
  bool read_user_file(const std::string& relative_path, std::string& contents, std::string& error);
  void record_file(const std::string& relative_path, std::string stamp);

  JSContext* cx_;
  common::UniqueFd handlers_dir_fd_;
  std::string handlers_dir_;
  std::vector<Record> records_;  // a module's private value is its index here
  std::vector<ipc::ModuleFile> loaded_files_;
  size_t files_announced_ = 0;  // loaded_files_ before this one went to the listener
  std::function<void(const std::vector<ipc::ModuleFile>&)> new_files_listener_;
  std::unordered_map<std::string, size_t> index_by_key_;
};

// Lexically resolves `specifier` (./ or ../) against the directory of
// `referrer_key`; false if the result would leave the root.
bool resolve_relative_path(std::string_view referrer_key, std::string_view specifier, std::string& out);

}  // namespace worker
