#pragma once
// libcurl, loaded with dlopen only into the workers whose manifest may
// connect somewhere. Linked into every worker, libcurl's Debian build brings
// some thirty libraries (GnuTLS through librtmp, Kerberos, LDAP, SSH, ...)
// whose loading and constructors cost each worker about 7 ms of CPU and
// 4 MB of resident memory at start (docs/performance.md), for a fetch() that
// a handler without `connect` could never use. Loading happens before
// confinement (it opens files); afterwards the calls go through this table.
// systemd keeps its optional libraries out of the way the same way.

#include <curl/curl.h>

#include <string>

namespace worker {

struct CurlLibrary {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_pause) easy_pause;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_assign) multi_assign;
  decltype(&::curl_multi_socket_action) multi_socket_action;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_strerror) multi_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_url) url;
  decltype(&::curl_url_set) url_set;
  decltype(&::curl_url_get) url_get;
  decltype(&::curl_url_cleanup) url_cleanup;
  decltype(&::curl_free) free;
};

// Loads libcurl once and initialises it; null (with `error`) if it cannot.
// The library stays loaded for the life of the process.
const CurlLibrary* load_curl(std::string& error);

// The loaded library; only valid after load_curl succeeded.
const CurlLibrary& curl();

}  // namespace worker
