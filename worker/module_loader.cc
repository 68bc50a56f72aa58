#include "worker/module_loader.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <js/CompilationAndEvaluation.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/Modules.h>
#include <js/Promise.h>
#include <js/SourceText.h>
#include <js/Transcoding.h>
#include <js/experimental/JSStencil.h>

#include <cerrno>
#include <map>

#include "common/file_stamp.h"
#include "common/log.h"
#include "common/process.h"
#include "worker/engine_settings.h"
#include "worker/internal_sources.h"
#include "worker/js_util.h"
#include "worker/prebuilt_stencils.h"

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
      {"util/types", "node/util_types.js"},
      {"crypto", "node/crypto.js"},
      {"process", "node/process.js"},
      {"url", "node/url.js"},
      {"path", "node/path.js"},
      {"path/posix", "node/path_posix.js"},
      {"querystring", "node/querystring.js"},
      {"assert", "node/assert.js"},
      {"assert/strict", "node/assert_strict.js"},
      {"os", "node/os.js"},
      {"net", "node/net.js"},
      {"dns", "node/dns.js"},
      {"tls", "node/tls.js"},
      {"dns/promises", "node/dns_promises.js"},
      {"stream", "node/stream.js"},
      {"stream/promises", "node/stream_promises.js"},
      {"zlib", "node/zlib.js"},
  };
  return facades;
}

// Every built-in module Node 20 has (module.builtinModules, plus those only
// importable with the prefix): an import of one of these that portbroker
// lacks is refused as unavailable; any other node: name is unknown to Node.
bool is_node_builtin(std::string_view name) {
  static constexpr std::string_view kNodeBuiltins[] = {
      "_http_agent", "_http_client", "_http_common", "_http_incoming", "_http_outgoing", "_http_server",
      "_stream_duplex", "_stream_passthrough", "_stream_readable", "_stream_transform", "_stream_wrap",
      "_stream_writable", "_tls_common", "_tls_wrap", "assert", "assert/strict", "async_hooks", "buffer",
      "child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel", "dns",
      "dns/promises", "domain", "events", "fs", "fs/promises", "http", "http2", "https", "inspector",
      "inspector/promises", "module", "net", "os", "path", "path/posix", "path/win32", "perf_hooks", "process",
      "punycode", "querystring", "readline", "readline/promises", "repl", "stream", "stream/consumers",
      "stream/promises", "stream/web", "string_decoder", "sys", "timers", "timers/promises", "tls",
      "trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi", "worker_threads", "zlib", "test",
      "test/reporters", "sea",
  };
  for (std::string_view builtin : kNodeBuiltins) {
    if (builtin == name) return true;
  }
  return false;
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

// Node's error for `node:<name>` naming no built-in module, located at the
// importing file (the engine does not say which line).
bool throw_unknown_builtin(JSContext* cx, const std::string& referrer_key, std::string_view specifier) {
  JS::RootedString message(cx, new_string_from_utf8(cx, "No such built-in module: " + std::string(specifier)));
  JS::RootedString file(cx, new_string_from_utf8(cx, referrer_key));
  JS::RootedString code(cx, JS_NewStringCopyZ(cx, "ERR_UNKNOWN_BUILTIN_MODULE"));
  if (!message || !file || !code) return false;
  JS::Rooted<mozilla::Maybe<JS::Value>> no_cause(cx, mozilla::Nothing());
  JS::RootedValue error(cx);
  if (!JS::CreateError(cx, JSEXN_ERR, nullptr, file, 0, 0, nullptr, message, no_cause, &error)) return false;
  JS::RootedObject object(cx, &error.toObject());
  if (!JS_DefineProperty(cx, object, "code", code, JSPROP_ENUMERATE)) return false;
  JS_SetPendingException(cx, error);
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
  JS::SetModuleDynamicImportHook(runtime, &ModuleLoader::dynamic_import_hook);
}

ModuleLoader::~ModuleLoader() {
  JSRuntime* runtime = JS_GetRuntime(cx_);
  JS::SetModuleResolveHook(runtime, nullptr);
  JS::SetModuleMetadataHook(runtime, nullptr);
  JS::SetModuleDynamicImportHook(runtime, nullptr);
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
    } else if (err == ENOSYS) {
      // Was "Function not implemented", under the unit's RestrictSUIDSGID=yes.
      error = "cannot be opened: openat2 is unavailable (Linux 5.6 or later is needed, and no seccomp filter may "
              "refuse it, as systemd's RestrictSUIDSGID=yes does)";
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

bool ModuleLoader::read_source(const std::string& relative_path, std::string& contents) const {
  if (!handlers_dir_fd_) return false;
  common::UniqueFd fd(open_beneath(handlers_dir_fd_.get(), relative_path));
  struct stat info {};
  if (!fd || fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  contents.clear();
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > kMaxModuleBytes) return false;
  }
}

JSObject* ModuleLoader::compile(Kind kind, const std::string& key, std::string_view source) {
  // Stack traces name internal modules "internal/<name>", user modules by their
  // path inside the handlers folder.
  std::string filename = kind == Kind::user ? key : internal_module_filename(key);
  JS::CompileOptions options(cx_);
  options.setFileAndLine(filename.c_str(), 1);
  JS::SourceText<mozilla::Utf8Unit> text;
  if (!text.init(cx_, source.data(), source.size(), JS::SourceOwnership::Borrowed)) return nullptr;
  JS::RootedObject module(cx_, JS::CompileModule(cx_, options, text));
  if (!module) return nullptr;
  return add_record(kind, key, module);
}

JSObject* ModuleLoader::from_prebuilt_stencil(const std::string& key) {
  std::span<const uint8_t> stencil_bytes = prebuilt_module(key);
  if (stencil_bytes.empty()) return nullptr;
  // The options the build encoded it under (stencil_encoder_main.cc).
  std::string filename = internal_module_filename(key);
  JS::CompileOptions options(cx_);
  options.setFileAndLine(filename.c_str(), 1);
  JS::Stencil* decoded = nullptr;
  JS::TranscodeRange range(stencil_bytes.data(), stencil_bytes.size());
  if (JS::DecodeStencil(cx_, JS::DecodeOptions(options), range, &decoded) != JS::TranscodeResult::Ok) {
    // Parsed from source instead: slower, the same module.
    JS_ClearPendingException(cx_);
    common::log::warn("prebuilt-stencil-unusable").kv("module", key);
    return nullptr;
  }
  RefPtr<JS::Stencil> stencil = already_AddRefed<JS::Stencil>(decoded);
  JS::RootedObject module(cx_, JS::InstantiateModuleStencil(cx_, JS::InstantiateOptions(options), stencil));
  if (!module) {
    JS_ClearPendingException(cx_);
    return nullptr;
  }
  return add_record(Kind::internal, key, module);
}

JSObject* ModuleLoader::add_record(Kind kind, const std::string& key, JS::HandleObject module) {
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
    if (JSObject* module = from_prebuilt_stencil(key)) return module;
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
  if (specifier.starts_with("node:") && !is_node_builtin(bare)) {
    throw_unknown_builtin(cx_, referrer.key, specifier);
    return nullptr;
  }
  std::string builtins;
  for (const auto& [name, _] : builtin_facades()) builtins += (builtins.empty() ? "node:" : ", node:") + std::string(name);
  std::string message = "Cannot import '" + std::string(specifier) + "' from " + referrer.key + ": ";
  if (specifier.starts_with("/") || specifier.starts_with("file:")) {
    message += "absolute paths are not allowed; import files of the handlers folder with a relative path";
  } else if (is_node_builtin(bare)) {
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

bool ModuleLoader::dynamic_import_hook(JSContext* cx, JS::HandleValue referencing_private, JS::HandleObject request,
                                       JS::HandleObject promise) {
  if (g_loader == nullptr) return false;
  // Code that is not a module's (eval, the Function constructor) imports
  // relative to the handler's entry module, the first user module loaded.
  JS::RootedValue referrer(cx, referencing_private);
  if (!referrer.isInt32()) {
    for (size_t i = 0; i < g_loader->records_.size(); ++i) {
      if (g_loader->records_[i].kind == Kind::user) {
        referrer.setInt32(static_cast<int32_t>(i));
        break;
      }
    }
  }
  JS::RootedObject module(cx, resolve_hook(cx, referrer, request));
  JS::RootedValue evaluation(cx);
  bool ok = module && JS::ModuleInstantiate(cx, module) && JS::ModuleEvaluate(cx, module, &evaluation);
  JS::RootedObject evaluation_promise(cx);
  if (ok && evaluation.isObject()) {
    evaluation_promise = &evaluation.toObject();
  } else {
    // The failure settles the import's promise, as a rejection.
    JS::RootedValue exception(cx);
    if (!JS_GetPendingException(cx, &exception)) return false;  // uncatchable: the engine stops
    JS_ClearPendingException(cx);
    evaluation_promise = JS::CallOriginalPromiseReject(cx, exception);
    if (!evaluation_promise) return false;
  }
  if (g_loader->new_files_listener_ && g_loader->files_announced_ < g_loader->loaded_files_.size()) {
    std::vector<ipc::ModuleFile> fresh(g_loader->loaded_files_.begin() + static_cast<ptrdiff_t>(g_loader->files_announced_),
                                       g_loader->loaded_files_.end());
    g_loader->files_announced_ = g_loader->loaded_files_.size();
    g_loader->new_files_listener_(fresh);
  }
  return JS::FinishDynamicModuleImport(cx, evaluation_promise, referencing_private, request, promise);
}

bool ModuleLoader::metadata_hook(JSContext* cx, JS::HandleValue module_private, JS::HandleObject meta) {
  if (g_loader == nullptr || !module_private.isInt32()) return true;
  const Record& record = g_loader->records_[static_cast<size_t>(module_private.toInt32())];
  std::string path = g_loader->handlers_dir_ + "/" + record.key;
  if (record.kind == Kind::user) {
    // Node 20.11's import.meta.dirname and filename, for file modules only
    // (defined first: Node lists them before url).
    JS::RootedString dirname(cx, new_string_from_utf8(cx, path.substr(0, path.rfind('/'))));
    JS::RootedString filename(cx, new_string_from_utf8(cx, path));
    if (!dirname || !filename || !JS_DefineProperty(cx, meta, "dirname", dirname, JSPROP_ENUMERATE) ||
        !JS_DefineProperty(cx, meta, "filename", filename, JSPROP_ENUMERATE)) {
      return false;
    }
  }
  std::string url = record.kind == Kind::user ? "file://" + path : "portbroker:internal/" + record.key;
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
  if (find_internal_source(name).data() == nullptr) {
    return throw_type_error(cx, "loadInternal: no internal module named '" + name + "'");
  }
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
