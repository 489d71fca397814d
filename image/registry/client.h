// The OCI distribution API (v2) client for one repository on one registry:
// manifests by tag or digest and blobs streamed to a sink, with the
// authentication dance done transparently (a 401's WWW-Authenticate
// challenge is answered with Basic credentials or a bearer token fetched
// from the realm, then the request is retried once).
//
// A Session holds what the parallel blob downloads share: the scheme that
// works for the host, the credentials, the token cache (per realm, service
// and scope) and a request counter. Each thread owns its RegistryClient, so
// each has its own curl handle and keep-alive connection.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "image/registry/auth.h"
#include "image/registry/http.h"
#include "runtime/sys/result.h"

namespace berth::image::registry {

struct SessionConfig {
  std::string host;  // as in the reference: "127.0.0.1:5000", "docker.io"
  bool insecure = false;  // plain http allowed, TLS not verified
  std::string caFile;
  std::optional<Credentials> credentials;
  std::string credentialsSource;  // the auth file they came from, for messages
  long connectTimeoutSec = 10;
  long stallTimeoutSec = 30;
};

class Session {
 public:
  explicit Session(SessionConfig config);

  const SessionConfig& config() const { return config_; }
  // "https://host" (or "http://" once an insecure host turned out to be plain).
  std::string baseUrl() const;
  void fallBackToHttp() { plainHttp_ = true; }
  bool plainHttp() const { return plainHttp_; }
  HttpOptions httpOptions() const;

  std::optional<std::string> cachedAuthorization(const std::string& key);
  void storeAuthorization(const std::string& key, std::string header, std::chrono::seconds ttl);

  uint64_t countRequest() { return ++requests_; }
  uint64_t requests() const { return requests_; }
  uint64_t tokenFetches() const { return tokenFetches_; }
  void countTokenFetch() { ++tokenFetches_; }

 private:
  struct CachedAuth {
    std::string header;
    std::chrono::steady_clock::time_point expires;
  };
  SessionConfig config_;
  std::atomic<bool> plainHttp_{false};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> tokenFetches_{0};
  std::mutex mu_;
  std::map<std::string, CachedAuth> auth_;
};

struct FetchedManifest {
  std::string body;
  std::string contentType;
  std::string digestHeader;  // Docker-Content-Digest, when sent
};

struct ManifestHead {
  long status = 0;
  std::string digest;  // Docker-Content-Digest; may be empty
  std::string contentType;
};

class RegistryClient {
 public:
  RegistryClient(std::shared_ptr<Session> session, std::string repository);

  // GET /v2/<repo>/manifests/<reference> with the index and manifest types
  // accepted. 404 reads "image not found".
  sys::Result<FetchedManifest> getManifest(const std::string& reference);
  // HEAD of the same: what a tag points at, without the body. A non-200
  // status is returned as is (HEAD answers carry no error document).
  sys::Result<ManifestHead> headManifest(const std::string& reference);
  // GET /v2/<repo>/blobs/<digest>, redirects followed, body to `sink`.
  sys::Result<void> fetchBlob(const std::string& digest, const BodySink& sink);

 private:
  // `request.url` is the path below the registry ("/v2/...").
  sys::Result<HttpResponse> send(const HttpRequest& request, const BodySink* sink);
  sys::Result<HttpResponse> sendOnce(const HttpRequest& request, const BodySink* sink,
                                     const std::optional<std::string>& authorization);
  sys::Result<std::string> authorize(const HttpResponse& challengeResponse);
  sys::Result<std::string> fetchToken(const Challenge& challenge);
  std::string scope() const { return "repository:" + repository_ + ":pull"; }

  std::shared_ptr<Session> session_;
  std::string repository_;
  HttpClient http_;
};

// "404 MANIFEST_UNKNOWN: manifest unknown" from a registry error response.
std::string describeHttpError(const HttpResponse& response);

}  // namespace berth::image::registry
