#include "worker/module_loader.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <js/CompilationAndEvaluation.h>
#include <js/Modules.h>
#include <js/Promise.h>
#include <js/SourceText.h>

#include <cerrno>
#include <map>

#include "common/file_stamp.h"
#include "common/process.h"
#include "worker/internal_sources.h"
#include "worker/js_util.h"

namespace worker {
namespace {

// Node's built-in module names that handlers may import, and the facade
// (an internal module) that implements each.
const std::map<std::string_view, std::string_view>& builtin_facades() {
  static const std::map<std::string_view, std::string_view> facades = {
      {"buffer", "node/buffer.js"},
      {"events", "node/events.js"},
      {"timers", "node/timers.js"},
      {"timers/promises", "node/timers_promises.js"},
      {"string_decoder", "node/string_decoder.js"},
      {"util", "node/util.js"},
      {"crypto", "node/crypto.js"},
      {"process", "node/process.js"},
      {"stream", "node/stream.js"},
      {"stream/promises", "node/stream_promises.js"},
      {"zlib", "node/zlib.js"},
  };
  return facades;
}

std::string_view find_internal_source(std::string_view name) {
  for (size_t i = 0; i < kInternalSourceCount; ++i) {
    if (kInternalSources[i].name == name) return kInternalSources[i].text;
  }
  return {};
}

// The hooks are per runtime and a worker has exactly one loader.
ModuleLoader* g_loader = nullptr;

bool throw_import_error(JSContext* cx, const std::string& message) {
  JS_ReportErrorUTF8(cx, "%s", message.c_str());
  return false;
}

int open_beneath(int dir_fd, const std::string& relative_path) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, dir_fd, relative_path.c_str(), &how, sizeof how));
}

}  // namespace

bool resolve_relative_path(std::string_view referrer_key, std::string_view specifier, std::string& out) {
  std::vector<std::string_view> parts;
  size_t slash = referrer_key.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? std::string_view{} : referrer_key.substr(0, slash);
  auto push_segments = [&](std::string_view path) {
    while (!path.empty()) {
      size_t next = path.find('/');
      std::string_view segment = path.substr(0, next);
      path = next == std::string_view::npos ? std::string_view{} : path.substr(next + 1);
      if (segment.empty() || segment == ".") continue;
      if (segment == "..") {
        if (parts.empty()) return false;
        parts.pop_back();
        continue;
      }
      parts.push_back(segment);
    }
    return true;
  };
  if (!push_segments(dir) || !push_segments(specifier) || parts.empty()) return false;
  out.clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return true;
}

ModuleLoader::ModuleLoader(JSContext* cx) : cx_(cx) {
  g_loader = this;
  JSRuntime* runtime = JS_GetRuntime(cx);
  JS::SetModuleResolveHook(runtime, &ModuleLoader::resolve_hook);
  JS::SetModuleMetadataHook(runtime, &ModuleLoader::metadata_hook);
}

ModuleLoader::~ModuleLoader() {
  JSRuntime* runtime = JS_GetRuntime(cx_);
  JS::SetModuleResolveHook(runtime, nullptr);
  JS::SetModuleMetadataHook(runtime, nullptr);
  g_loader = nullptr;
}

void ModuleLoader::set_handlers_dir(common::UniqueFd folder, const std::string& display_path) {
  handlers_dir_fd_ = std::move(folder);
  handlers_dir_ = display_path;
}

void ModuleLoader::record_file(const std::string& relative_path, std::string stamp) {
  // The supervisor refuses reports beyond these bounds; such a path does not
  // open anyway.
  if (loaded_files_.size() >= ipc::kMaxReportedModules || !ipc::valid_module_path(relative_path)) return;
  loaded_files_.push_back({relative_path, std::move(stamp)});
}

bool ModuleLoader::read_user_file(const std::string& relative_path, std::string& contents, std::string& error) {
  common::UniqueFd fd(open_beneath(handlers_dir_fd_.get(), relative_path));
  if (!fd) {
    int err = errno;
    // Reported too: the supervisor retries once the file appears.
    record_file(relative_path, "");
    if (err == EXDEV || err == ELOOP) {
      error = "resolves outside the handlers folder (symlink)";
    } else {
      error = common::errno_text(err);
    }
    return false;
  }
  struct stat info {};
  bool stat_ok = fstat(fd.get(), &info) == 0;
  record_file(relative_path, stat_ok ? common::file_stamp(info) : "");
  if (!stat_ok || !S_ISREG(info.st_mode)) {
    error = S_ISDIR(info.st_mode) ? "is a directory (import a file, e.g. './dir/index.js')" : "is not a regular file";
    return false;
  }
  if (static_cast<uint64_t>(info.st_size) > kMaxModuleBytes) {
    error = "is larger than " + std::to_string(kMaxModuleBytes) + " bytes";
    return false;
  }
  contents.clear();
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = common::errno_text(errno);
      return false;
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > kMaxModuleBytes) {
      error = "is larger than " + std::to_string(kMaxModuleBytes) + " bytes";
      return false;
    }
  }
  return true;
}

JSObject* ModuleLoader::compile(Kind kind, const std::string& key, std::string_view source) {
  // Stack traces name internal modules "internal/<name>", user modules by their
  // path inside the handlers folder.
  std::string filename = kind == Kind::user ? key : "internal/" + key;
  JS::CompileOptions options(cx_);
  options.setFileAndLine(filename.c_str(), 1);
  JS::SourceText<mozilla::Utf8Unit> text;
  if (!text.init(cx_, source.data(), source.size(), JS::SourceOwnership::Borrowed)) return nullptr;
  JS::RootedObject module(cx_, JS::CompileModule(cx_, options, text));
  if (!module) return nullptr;
  size_t index = records_.size();
  records_.push_back(Record{kind, key, std::make_unique<JS::PersistentRootedObject>(cx_, module)});
  index_by_key_.emplace((kind == Kind::user ? "user:" : "internal:") + key, index);
  JS::SetModulePrivate(module, JS::Int32Value(static_cast<int32_t>(index)));
  return module;
}

JSObject* ModuleLoader::get_or_compile(Kind kind, const std::string& key, const std::string& referrer_key,
                                       std::string_view specifier) {
  auto found = index_by_key_.find((kind == Kind::user ? "user:" : "internal:") + key);
  if (found != index_by_key_.end()) return *records_[found->second].module;
  std::string source;
  if (kind == Kind::user) {
    std::string error;
    if (!read_user_file(key, source, error)) {
      throw_import_error(cx_, "Cannot import '" + std::string(specifier) + "' from " + referrer_key + ": " + key + " " + error);
      return nullptr;
    }
  } else {
    std::string_view text = find_internal_source(key);
    if (text.data() == nullptr) {
      throw_import_error(cx_, "internal module " + key + " is missing (imported from " + referrer_key + ")");
      return nullptr;
    }
    source.assign(text);
  }
  return compile(kind, key, source);
}

JSObject* ModuleLoader::resolve(const Record& referrer, std::string_view specifier) {
  const bool relative = specifier.starts_with("./") || specifier.starts_with("../");
  if (referrer.kind != Kind::user) {
    std::string key;
    if (!relative || !resolve_relative_path(referrer.key, specifier, key)) {
      throw_import_error(cx_, "internal module " + referrer.key + " imports unknown '" + std::string(specifier) + "'");
      return nullptr;
    }
    return get_or_compile(Kind::internal, key, referrer.key, specifier);
  }
  if (relative) {
    std::string key;
    if (!resolve_relative_path(referrer.key, specifier, key)) {
      throw_import_error(cx_, "Cannot import '" + std::string(specifier) + "' from " + referrer.key +
                                  ": the path leaves the handlers folder");
      return nullptr;
    }
    return get_or_compile(Kind::user, key, referrer.key, specifier);
  }
  std::string_view bare = specifier.starts_with("node:") ? specifier.substr(5) : specifier;
  auto facade = builtin_facades().find(bare);
  if (facade != builtin_facades().end()) {
    return get_or_compile(Kind::internal, std::string(facade->second), referrer.key, specifier);
  }
  std::string builtins;
  for (const auto& [name, _] : builtin_facades()) builtins += (builtins.empty() ? "node:" : ", node:") + std::string(name);
  std::string message = "Cannot import '" + std::string(specifier) + "' from " + referrer.key + ": ";
  if (specifier.starts_with("/") || specifier.starts_with("file:")) {
    message += "absolute paths are not allowed; import files of the handlers folder with a relative path";
  } else if (specifier.starts_with("node:")) {
    message += "not a module available to handlers (built-ins: " + builtins + ")";
  } else {
    message += "packages are not resolved; import files of the handlers folder with a relative path "
               "('./lib/x.js') or a built-in (" + builtins + ")";
  }
  throw_import_error(cx_, message);
  return nullptr;
}

JSObject* ModuleLoader::resolve_hook(JSContext* cx, JS::HandleValue referrer_private, JS::HandleObject request) {
  if (g_loader == nullptr || !referrer_private.isInt32() ||
      static_cast<size_t>(referrer_private.toInt32()) >= g_loader->records_.size()) {
    throw_import_error(cx, "import from a module the loader does not know");
    return nullptr;
  }
  JS::RootedString specifier_string(cx, JS::GetModuleRequestSpecifier(cx, request));
  if (!specifier_string) return nullptr;
  std::string specifier = string_to_utf8(cx, specifier_string);
  // Copied: resolving may compile modules and grow records_.
  Record referrer{g_loader->records_[static_cast<size_t>(referrer_private.toInt32())].kind,
                  g_loader->records_[static_cast<size_t>(referrer_private.toInt32())].key, nullptr};
  return g_loader->resolve(referrer, specifier);
}

bool ModuleLoader::metadata_hook(JSContext* cx, JS::HandleValue module_private, JS::HandleObject meta) {
  if (g_loader == nullptr || !module_private.isInt32()) return true;
  const Record& record = g_loader->records_[static_cast<size_t>(module_private.toInt32())];
  std::string url = record.kind == Kind::user ? "file://" + g_loader->handlers_dir_ + "/" + record.key
                                              : "portbroker:internal/" + record.key;
  JS::RootedString url_string(cx, new_string_from_utf8(cx, url));
  return url_string && JS_DefineProperty(cx, meta, "url", url_string, JSPROP_ENUMERATE);
}

JSObject* ModuleLoader::link_and_evaluate(JS::HandleObject module, JS::MutableHandleValue evaluation) {
  if (!JS::ModuleInstantiate(cx_, module)) return nullptr;
  if (!JS::ModuleEvaluate(cx_, module, evaluation)) return nullptr;
  return module;
}

JSObject* ModuleLoader::load_internal(std::string_view name, JS::MutableHandleValue evaluation) {
  JS::RootedObject module(cx_, get_or_compile(Kind::internal, std::string(name), "the runtime", name));
  if (!module) return nullptr;
  return link_and_evaluate(module, evaluation);
}

JSObject* ModuleLoader::link_user(std::string_view relative_path) {
  JS::RootedObject module(cx_, get_or_compile(Kind::user, std::string(relative_path), "the broker", relative_path));
  if (!module || !JS::ModuleInstantiate(cx_, module)) return nullptr;
  return module;
}

JSObject* ModuleLoader::load_user(std::string_view relative_path, JS::MutableHandleValue evaluation) {
  JS::RootedObject module(cx_, get_or_compile(Kind::user, std::string(relative_path), "the broker", relative_path));
  if (!module) return nullptr;
  return link_and_evaluate(module, evaluation);
}

namespace {

bool load_internal_now(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (g_loader == nullptr || !args.get(0).isString()) return throw_type_error(cx, "loadInternal: a module name is required");
  std::string name = string_to_utf8(cx, args[0].toString());
  // Internal modules only: nothing from the handlers folder comes this way.
  if (find_internal_source(name).data() == nullptr) return throw_type_error(cx, "loadInternal: no such internal module");
  JS::RootedValue evaluation(cx);
  JS::RootedObject module(cx, g_loader->load_internal(name, &evaluation));
  if (!module) return false;
  if (evaluation.isObject()) {
    JS::RootedObject promise(cx, &evaluation.toObject());
    if (JS::IsPromiseObject(promise) && JS::GetPromiseState(promise) == JS::PromiseState::Rejected) {
      JS::RootedValue reason(cx, JS::GetPromiseResult(promise));
      JS_SetPendingException(cx, reason);
      return false;
    }
  }
  JSObject* namespace_object = JS::GetModuleNamespace(cx, module);
  if (namespace_object == nullptr) return false;
  args.rval().setObject(*namespace_object);
  return true;
}

}  // namespace

bool install_module_api(JSContext* cx, JS::HandleObject native) {
  return JS_DefineFunction(cx, native, "loadInternal", load_internal_now, 1, 0) != nullptr;
}

}  // namespace worker
