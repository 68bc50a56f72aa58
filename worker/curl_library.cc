#include "worker/curl_library.h"

#include <dlfcn.h>

#include <cstdlib>

namespace worker {
namespace {

const CurlLibrary* loaded = nullptr;

template <typename Function>
bool resolve(void* library, const char* name, Function& out, std::string& error) {
  out = reinterpret_cast<Function>(dlsym(library, name));
  if (out == nullptr) error = std::string("libcurl has no ") + name;
  return out != nullptr;
}

}  // namespace

const CurlLibrary* load_curl(std::string& error) {
  if (loaded != nullptr) return loaded;
  // librtmp, one of libcurl's dependencies, brings GnuTLS, whose constructor
  // initialises itself (and p11-kit's modules) at load time; libcurl here
  // uses OpenSSL and never calls GnuTLS.
  setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
  // The soname Debian's libcurl4 (OpenSSL flavour) installs; the one the
  // headers we build against belong to.
  void* library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* reason = dlerror();
    error = std::string("cannot load libcurl: ") + (reason != nullptr ? reason : "unknown error");
    return nullptr;
  }
  static CurlLibrary table{};
  bool ok = resolve(library, "curl_global_init", table.global_init, error) &&
            resolve(library, "curl_easy_init", table.easy_init, error) &&
            resolve(library, "curl_easy_cleanup", table.easy_cleanup, error) &&
            resolve(library, "curl_easy_setopt", table.easy_setopt, error) &&
            resolve(library, "curl_easy_getinfo", table.easy_getinfo, error) &&
            resolve(library, "curl_easy_pause", table.easy_pause, error) &&
            resolve(library, "curl_easy_strerror", table.easy_strerror, error) &&
            resolve(library, "curl_multi_init", table.multi_init, error) &&
            resolve(library, "curl_multi_cleanup", table.multi_cleanup, error) &&
            resolve(library, "curl_multi_setopt", table.multi_setopt, error) &&
            resolve(library, "curl_multi_add_handle", table.multi_add_handle, error) &&
            resolve(library, "curl_multi_remove_handle", table.multi_remove_handle, error) &&
            resolve(library, "curl_multi_assign", table.multi_assign, error) &&
            resolve(library, "curl_multi_socket_action", table.multi_socket_action, error) &&
            resolve(library, "curl_multi_info_read", table.multi_info_read, error) &&
            resolve(library, "curl_multi_strerror", table.multi_strerror, error) &&
            resolve(library, "curl_slist_append", table.slist_append, error) &&
            resolve(library, "curl_slist_free_all", table.slist_free_all, error) &&
            resolve(library, "curl_url", table.url, error) &&
            resolve(library, "curl_url_set", table.url_set, error) &&
            resolve(library, "curl_url_get", table.url_get, error) &&
            resolve(library, "curl_url_cleanup", table.url_cleanup, error) &&
            resolve(library, "curl_free", table.free, error);
  if (!ok) return nullptr;  // the handle stays open: a half-resolved library is never unloaded under anyone
  if (table.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    error = "libcurl failed to initialise";
    return nullptr;
  }
  loaded = &table;
  return loaded;
}

const CurlLibrary& curl() { return *loaded; }

}  // namespace worker
