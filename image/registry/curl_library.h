// libcurl, loaded on first use (dlopen) instead of linked.
//
// Why: berthd pulls images now and then but runs all the time. Linking
// libcurl maps it and some 25 libraries it depends on (GnuTLS, Kerberos,
// LDAP, libssh2, ...) into the daemon at start, several of which initialize
// themselves in constructors: about 4 MiB of resident memory in an idle
// daemon that never pulled. Loaded here, they cost nothing until the first
// pull. The headers still come from libcurl's -dev package, so the types and
// constants are checked at build time.
#pragma once

#include <curl/curl.h>

#include "runtime/sys/result.h"

namespace berth::image::registry {

struct CurlLibrary {
  CURLcode (*globalInit)(long flags);
  CURL* (*easyInit)();
  void (*easyCleanup)(CURL* handle);
  void (*easyReset)(CURL* handle);
  CURLcode (*easySetopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easyPerform)(CURL* handle);
  CURLcode (*easyGetinfo)(CURL* handle, CURLINFO info, ...);
  const char* (*easyStrerror)(CURLcode code);
  curl_slist* (*slistAppend)(curl_slist* list, const char* text);
  void (*slistFreeAll)(curl_slist* list);
};

// The loaded and globally initialized library (once per process, thread
// safe), or why it could not be loaded ("registry access needs libcurl
// (libcurl.so.4): ..."), the same error on every call.
[[nodiscard]] sys::Result<const CurlLibrary*> curlLibrary();

}  // namespace berth::image::registry
