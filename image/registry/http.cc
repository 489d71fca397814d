// libcurl easy-handle wrapper (see http.h).
#include "image/registry/http.h"

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "image/registry/curl_library.h"

namespace berth::image::registry {
namespace {

// Large reads mean fewer write callbacks and fewer write(2)s for blobs.
constexpr long kBufferSize = 512 * 1024;

struct Transfer {
  const CurlLibrary* lib;
  HttpResponse* response;
  const BodySink* sink;
  CURL* curl;
  long maxBody;
  sys::Result<void> sinkResult;
  bool tooLarge = false;
};

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  // Each response of a redirect chain starts with a status line: keep only
  // the headers of the final one.
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  t->response->headers[name] = std::string(value);
  return line.size();
}

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  long status = 0;
  t->lib->easyGetinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->sink != nullptr && status >= 200 && status < 300) {
    t->sinkResult = (*t->sink)(data, len);
    return t->sinkResult.ok() ? len : 0;
  }
  if (static_cast<long>(t->response->body.size() + len) > t->maxBody) {
    t->tooLarge = true;
    return 0;
  }
  t->response->body.append(data, len);
  return len;
}

TransportFailure classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::kUnreachable;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
      return TransportFailure::kTls;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
      return TransportFailure::kAborted;
    default:
      return TransportFailure::kOther;
  }
}

}  // namespace

std::string HttpResponse::header(const std::string& lowercaseName) const {
  auto it = headers.find(lowercaseName);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
  if (auto lib = curlLibrary(); lib) curl_ = (*lib)->easyInit();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) (*curlLibrary())->easyCleanup(static_cast<CURL*>(curl_));
}

sys::Result<HttpResponse> HttpClient::perform(const HttpRequest& request, const BodySink* sink) {
  const CurlLibrary* lib = BERTH_TRY(curlLibrary());
  auto* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return sys::Error::invalid("curl_easy_init failed");
  lastFailure_ = TransportFailure::kNone;
  lib->easyReset(curl);

  HttpResponse response;
  Transfer transfer{lib, &response, sink, curl, options_.maxBodyInMemory, sys::ok()};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = lib->slistAppend(headers, h.c_str());

  lib->easySetopt(curl, CURLOPT_URL, request.url.c_str());
  if (request.method == "HEAD") lib->easySetopt(curl, CURLOPT_NOBODY, 1L);
  lib->easySetopt(curl, CURLOPT_HTTPHEADER, headers);
  lib->easySetopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  lib->easySetopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  lib->easySetopt(curl, CURLOPT_CONNECTTIMEOUT, options_.connectTimeoutSec);
  lib->easySetopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  lib->easySetopt(curl, CURLOPT_LOW_SPEED_TIME, options_.stallTimeoutSec);
  lib->easySetopt(curl, CURLOPT_BUFFERSIZE, kBufferSize);
  lib->easySetopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  lib->easySetopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // Redirects go to blob storage on other hosts; curl keeps our
  // Authorization header away from them (no CURLOPT_UNRESTRICTED_AUTH).
  lib->easySetopt(curl, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1L : 0L);
  lib->easySetopt(curl, CURLOPT_MAXREDIRS, 5L);
  lib->easySetopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  lib->easySetopt(curl, CURLOPT_HEADERDATA, &transfer);
  lib->easySetopt(curl, CURLOPT_WRITEFUNCTION, onBody);
  lib->easySetopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (!options_.caFile.empty()) lib->easySetopt(curl, CURLOPT_CAINFO, options_.caFile.c_str());
  if (!options_.verifyTls) {
    lib->easySetopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    lib->easySetopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  CURLcode code = lib->easyPerform(curl);
  lib->slistFreeAll(headers);
  if (!transfer.sinkResult.ok()) {
    lastFailure_ = TransportFailure::kAborted;
    return std::move(transfer.sinkResult).error();
  }
  std::string what = request.method + " " + request.url;
  if (transfer.tooLarge) {
    return sys::Error::invalid(what + ": response body larger than " +
                               std::to_string(options_.maxBodyInMemory) + " bytes");
  }
  if (code != CURLE_OK) {
    lastFailure_ = classify(code);
    long osErrno = 0;
    lib->easyGetinfo(curl, CURLINFO_OS_ERRNO, &osErrno);
    std::string detail = errbuf[0] != 0 ? errbuf : lib->easyStrerror(code);
    int errnoValue = static_cast<int>(osErrno);
    if (code == CURLE_OPERATION_TIMEDOUT) errnoValue = ETIMEDOUT;
    return sys::Error(lastFailure_ == TransportFailure::kUnreachable ? errnoValue : 0,
                      what + ": " + detail);
  }
  lib->easyGetinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  lib->easyGetinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective != nullptr) response.effectiveUrl = effective;
  return response;
}

}  // namespace berth::image::registry
