// Lazy libcurl; see curl_library.h.
#include "image/registry/curl_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace berth::image::registry {
namespace {

// The SONAME: the runtime package (libcurl4) has it even where the
// unversioned -dev symlink is missing.
constexpr const char* kLibcurl = "libcurl.so.4";

template <class Fn>
bool bind(void* handle, const char* name, Fn*& out, std::string& missing) {
  out = reinterpret_cast<Fn*>(::dlsym(handle, name));
  if (out == nullptr) missing = name;
  return out != nullptr;
}

sys::Result<CurlLibrary> load() {
  // RTLD_LOCAL: curl's symbols stay out of the global namespace; never
  // unloaded (handles and its threads may outlive any scope of ours).
  void* handle = ::dlopen(kLibcurl, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return sys::Error::invalid(std::string("registry access needs libcurl (") + kLibcurl +
                               "): " + (why != nullptr ? why : "not found") +
                               " (Debian: apt-get install libcurl4)");
  }
  CurlLibrary lib{};
  std::string missing;
  bool ok = bind(handle, "curl_global_init", lib.globalInit, missing) &&
            bind(handle, "curl_easy_init", lib.easyInit, missing) &&
            bind(handle, "curl_easy_cleanup", lib.easyCleanup, missing) &&
            bind(handle, "curl_easy_reset", lib.easyReset, missing) &&
            bind(handle, "curl_easy_setopt", lib.easySetopt, missing) &&
            bind(handle, "curl_easy_perform", lib.easyPerform, missing) &&
            bind(handle, "curl_easy_getinfo", lib.easyGetinfo, missing) &&
            bind(handle, "curl_easy_strerror", lib.easyStrerror, missing) &&
            bind(handle, "curl_slist_append", lib.slistAppend, missing) &&
            bind(handle, "curl_slist_free_all", lib.slistFreeAll, missing);
  if (!ok) return sys::Error::invalid(std::string(kLibcurl) + " lacks " + missing + ": too old");
  // curl_global_init is not thread-safe; it runs here, once, under call_once.
  if (CURLcode code = lib.globalInit(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return sys::Error::invalid("curl_global_init failed: code " + std::to_string(code));
  }
  return lib;
}

}  // namespace

sys::Result<const CurlLibrary*> curlLibrary() {
  static std::once_flag once;
  static sys::Result<CurlLibrary> loaded = sys::Error::invalid("libcurl not loaded");
  std::call_once(once, [] { loaded = load(); });
  if (!loaded) return loaded.error();
  return &loaded.value();
}

}  // namespace berth::image::registry
