// A small HTTP client over libcurl's easy interface, shaped for the registry
// protocol: one handle per thread (connections are reused across requests),
// bodies either collected in memory (manifests, tokens, error documents) or
// streamed to a sink (blobs), bounded timeouts everywhere, and transport
// failures turned into errors that say which address and which CA.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::image::registry {

struct HttpOptions {
  std::string caFile;        // PEM bundle to verify servers with; empty = system store
  bool verifyTls = true;     // false only for registries listed as insecure
  long connectTimeoutSec = 10;
  // A transfer that moves less than 1 byte/s for this long is aborted: large
  // blobs may take long, a stalled one must not hang the pull.
  long stallTimeoutSec = 30;
  long maxBodyInMemory = 8 << 20;  // cap for collected bodies (manifests are small)
};

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool followRedirects = false;      // registries redirect blob GETs to storage
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names, of the final response
  std::string body;         // collected unless streamed (only non-2xx bodies when streaming)
  std::string effectiveUrl;  // after redirects
  std::string header(const std::string& lowercaseName) const;
};

// Failure kinds of the transport itself (no HTTP status was received).
enum class TransportFailure { kNone, kUnreachable, kTls, kAborted, kOther };

// Called with each chunk of a 2xx body; an error aborts the transfer and is
// returned from perform().
using BodySink = std::function<sys::Result<void>(const char* data, size_t len)>;

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one request. A received HTTP status (any code) is a success;
  // transport failures are errors, and lastFailure() tells which kind.
  // With a sink, 2xx bodies go to the sink instead of HttpResponse::body.
  sys::Result<HttpResponse> perform(const HttpRequest& request, const BodySink* sink = nullptr);
  TransportFailure lastFailure() const { return lastFailure_; }
  const HttpOptions& options() const { return options_; }

 private:
  HttpOptions options_;
  void* curl_;  // CURL*
  TransportFailure lastFailure_ = TransportFailure::kNone;
};

}  // namespace berth::image::registry
