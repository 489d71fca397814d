// libcurl easy-handle wrapper (see http.h).
#include "image/registry/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>

namespace berth::image::registry {
namespace {

// curl_global_init is not thread-safe; every handle is made after it ran once.
void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Large reads mean fewer write callbacks and fewer write(2)s for blobs.
constexpr long kBufferSize = 512 * 1024;

struct Transfer {
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
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
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
  globalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

sys::Result<HttpResponse> HttpClient::perform(const HttpRequest& request, const BodySink* sink) {
  auto* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return sys::Error::invalid("curl_easy_init failed");
  lastFailure_ = TransportFailure::kNone;
  curl_easy_reset(curl);

  HttpResponse response;
  Transfer transfer{&response, sink, curl, options_.maxBodyInMemory, sys::ok()};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options_.connectTimeoutSec);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options_.stallTimeoutSec);
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, kBufferSize);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // Redirects go to blob storage on other hosts; curl keeps our
  // Authorization header away from them (no CURLOPT_UNRESTRICTED_AUTH).
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (!options_.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.caFile.c_str());
  if (!options_.verifyTls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
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
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &osErrno);
    std::string detail = errbuf[0] != 0 ? errbuf : curl_easy_strerror(code);
    int errnoValue = static_cast<int>(osErrno);
    if (code == CURLE_OPERATION_TIMEDOUT) errnoValue = ETIMEDOUT;
    return sys::Error(lastFailure_ == TransportFailure::kUnreachable ? errnoValue : 0,
                      what + ": " + detail);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective != nullptr) response.effectiveUrl = effective;
  return response;
}

}  // namespace berth::image::registry
