// Registry v2 requests with the auth challenge flow (see client.h).
#include "image/registry/client.h"

#include <nlohmann/json.hpp>

#include "image/registry/manifest.h"

namespace berth::image::registry {
namespace {

using nlohmann::json;

constexpr std::string_view kBasicKey = "basic";
// Tokens without expires_in live 60 s (distribution's token spec); renew a
// little early so a token never expires mid-pull.
constexpr std::chrono::seconds kDefaultTokenTtl{60};
constexpr std::chrono::seconds kTokenMargin{10};

std::string apiHost(const std::string& host) {
  return host == "docker.io" ? std::string("registry-1.docker.io") : host;
}

std::string caDescription(const SessionConfig& c) {
  return c.caFile.empty() ? std::string("system CA store") : "CA file " + c.caFile;
}

}  // namespace

std::string describeHttpError(const HttpResponse& response) {
  std::string out = std::to_string(response.status);
  json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object()) {
    auto errors = doc.find("errors");
    if (errors != doc.end() && errors->is_array() && !errors->empty() &&
        (*errors)[0].is_object()) {
      const json& e = (*errors)[0];
      if (auto c = e.find("code"); c != e.end() && c->is_string()) out += " " + c->get<std::string>();
      if (auto m = e.find("message"); m != e.end() && m->is_string()) {
        out += ": " + m->get<std::string>();
      }
      return out;
    }
  }
  if (auto s = response.body.find_first_not_of(" \r\n"); s != std::string::npos) {
    out += ": " + response.body.substr(s, 200);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  }
  return out;
}

Session::Session(SessionConfig config) : config_(std::move(config)) {}

std::string Session::baseUrl() const {
  return (plainHttp_ ? "http://" : "https://") + apiHost(config_.host);
}

HttpOptions Session::httpOptions() const {
  HttpOptions o;
  o.caFile = config_.caFile;
  o.verifyTls = !config_.insecure;
  o.connectTimeoutSec = config_.connectTimeoutSec;
  o.stallTimeoutSec = config_.stallTimeoutSec;
  return o;
}

std::optional<std::string> Session::cachedAuthorization(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = auth_.find(key);
  if (it == auth_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    auth_.erase(it);
    return std::nullopt;
  }
  return it->second.header;
}

void Session::storeAuthorization(const std::string& key, std::string header,
                                 std::chrono::seconds ttl) {
  std::lock_guard lock(mu_);
  auth_[key] = CachedAuth{std::move(header), std::chrono::steady_clock::now() + ttl};
}

RegistryClient::RegistryClient(std::shared_ptr<Session> session, std::string repository)
    : session_(std::move(session)), repository_(std::move(repository)),
      http_(session_->httpOptions()) {}

sys::Result<HttpResponse> RegistryClient::sendOnce(const HttpRequest& request,
                                                   const BodySink* sink,
                                                   const std::optional<std::string>& authorization) {
  const SessionConfig& config = session_->config();
  for (;;) {
    HttpRequest full = request;
    full.url = session_->baseUrl() + request.url;
    if (authorization) full.headers.push_back("Authorization: " + *authorization);
    session_->countRequest();
    auto response = http_.perform(full, sink);
    if (response.ok()) return response;
    TransportFailure failure = http_.lastFailure();
    // An insecure registry may speak plain HTTP: the TLS handshake fails at
    // once, and the request is repeated over http (registries.conf semantics).
    if (failure == TransportFailure::kTls && config.insecure && !session_->plainHttp()) {
      session_->fallBackToHttp();
      continue;
    }
    if (failure == TransportFailure::kTls) {
      return std::move(response).error().context("TLS failure talking to registry " + config.host +
                                                 " (verified with " + caDescription(config) + ")");
    }
    if (failure == TransportFailure::kUnreachable) {
      return std::move(response).error().context("registry " + config.host + " unreachable");
    }
    return response;
  }
}

sys::Result<HttpResponse> RegistryClient::send(const HttpRequest& request, const BodySink* sink) {
  std::optional<std::string> authorization = session_->cachedAuthorization(scope());
  if (!authorization) authorization = session_->cachedAuthorization(std::string(kBasicKey));
  HttpResponse response = BERTH_TRY(sendOnce(request, sink, authorization));
  if (response.status != 401) return response;

  std::string fresh = BERTH_TRY(authorize(response));
  response = BERTH_TRY(sendOnce(request, sink, fresh));
  if (response.status == 401) {
    const SessionConfig& c = session_->config();
    std::string who = c.credentials ? "the credentials of user \"" + c.credentials->username +
                                          "\" from " + c.credentialsSource
                                    : std::string("anonymous access");
    return sys::Error::invalid("unauthorized: registry " + c.host + " rejected " + who + " (" +
                               describeHttpError(response) + ")");
  }
  return response;
}

sys::Result<std::string> RegistryClient::authorize(const HttpResponse& challengeResponse) {
  const SessionConfig& c = session_->config();
  std::string header = challengeResponse.header("www-authenticate");
  if (header.empty()) {
    return sys::Error::invalid("unauthorized: registry " + c.host +
                               " answered 401 without a WWW-Authenticate challenge");
  }
  Challenge challenge = BERTH_TRY_CTX(parseChallenge(header), "registry " + c.host);
  if (challenge.scheme == "basic") {
    if (!c.credentials) {
      return sys::Error::invalid("unauthorized: registry " + c.host +
                                 " requires a login and no credentials for it were found" +
                                 (c.credentialsSource.empty() ? std::string(" (no auth file given)")
                                                              : " in " + c.credentialsSource));
    }
    std::string value =
        "Basic " + base64Encode(c.credentials->username + ":" + c.credentials->password);
    // Basic credentials never expire on their own; a day bounds the cache.
    session_->storeAuthorization(std::string(kBasicKey), value, std::chrono::hours(24));
    return value;
  }
  if (challenge.scheme == "bearer") {
    std::string token = BERTH_TRY(fetchToken(challenge));
    return "Bearer " + token;
  }
  return sys::Error::invalid("registry " + c.host + ": unsupported auth scheme \"" +
                             challenge.scheme + "\"");
}

sys::Result<std::string> RegistryClient::fetchToken(const Challenge& challenge) {
  const SessionConfig& c = session_->config();
  std::string realm = challenge.param("realm");
  if (realm.rfind("https://", 0) != 0 && realm.rfind("http://", 0) != 0) {
    return sys::Error::invalid("registry " + c.host + ": bearer challenge realm \"" + realm +
                               "\" is not an http(s) URL");
  }
  // The challenge's scope names what the refused request needed; without
  // one (e.g. on /v2/) ask for pull on our repository.
  std::string wantScope = challenge.param("scope").empty() ? scope() : challenge.param("scope");
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (!challenge.param("service").empty()) url += "service=" + urlEncode(challenge.param("service")) + "&";
  url += "scope=" + urlEncode(wantScope);

  HttpRequest request;
  request.url = url;
  if (c.credentials) {
    request.headers.push_back("Authorization: Basic " +
                              base64Encode(c.credentials->username + ":" + c.credentials->password));
  }
  session_->countRequest();
  session_->countTokenFetch();
  HttpResponse response = BERTH_TRY_CTX(http_.perform(request), "fetch bearer token");
  if (response.status == 401 || response.status == 403) {
    return sys::Error::invalid("unauthorized: token server " + realm + " refused " +
                               (c.credentials ? "user \"" + c.credentials->username + "\""
                                              : std::string("anonymous access")) +
                               " (" + describeHttpError(response) + ")");
  }
  if (response.status != 200) {
    return sys::Error::invalid("token server " + realm + ": " + describeHttpError(response));
  }
  json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  std::string token;
  if (!doc.is_discarded() && doc.is_object()) {
    for (const char* field : {"token", "access_token"}) {
      if (auto t = doc.find(field); t != doc.end() && t->is_string() && !t->get<std::string>().empty()) {
        token = t->get<std::string>();
        break;
      }
    }
  }
  if (token.empty()) {
    return sys::Error::invalid("token server " + realm + ": response has no \"token\"");
  }
  std::chrono::seconds ttl = kDefaultTokenTtl;
  if (auto e = doc.find("expires_in"); e != doc.end() && e->is_number_integer() && *e > 0) {
    ttl = std::chrono::seconds(e->get<int64_t>());
  }
  ttl = ttl > 2 * kTokenMargin ? ttl - kTokenMargin : ttl;
  session_->storeAuthorization(scope(), "Bearer " + token, ttl);
  return token;
}

sys::Result<FetchedManifest> RegistryClient::getManifest(const std::string& reference) {
  HttpRequest request;
  request.url = "/v2/" + repository_ + "/manifests/" + reference;
  request.headers.push_back(manifestAcceptHeader());
  HttpResponse response = BERTH_TRY(send(request, nullptr));
  const std::string& host = session_->config().host;
  if (response.status == 404) {
    return sys::Error::invalid("image not found: registry " + host + " has no manifest \"" +
                               reference + "\" in repository \"" + repository_ + "\" (" +
                               describeHttpError(response) + ")");
  }
  if (response.status == 403) {
    return sys::Error::invalid("unauthorized: registry " + host + " denied access to \"" +
                               repository_ + "\" (" + describeHttpError(response) + ")");
  }
  if (response.status != 200) {
    return sys::Error::invalid("GET manifest " + reference + " from " + host + ": " +
                               describeHttpError(response));
  }
  return FetchedManifest{std::move(response.body), response.header("content-type"),
                         response.header("docker-content-digest")};
}

sys::Result<ManifestHead> RegistryClient::headManifest(const std::string& reference) {
  HttpRequest request;
  request.method = "HEAD";
  request.url = "/v2/" + repository_ + "/manifests/" + reference;
  request.headers.push_back(manifestAcceptHeader());
  HttpResponse response = BERTH_TRY(send(request, nullptr));
  return ManifestHead{response.status, response.header("docker-content-digest"),
                      response.header("content-type")};
}

sys::Result<void> RegistryClient::fetchBlob(const std::string& digest, const BodySink& sink) {
  HttpRequest request;
  request.url = "/v2/" + repository_ + "/blobs/" + digest;
  request.followRedirects = true;
  HttpResponse response = BERTH_TRY(send(request, &sink));
  const std::string& host = session_->config().host;
  if (response.status == 404) {
    return sys::Error::invalid("registry " + host + " has no blob " + digest + " in \"" +
                               repository_ + "\" (" + describeHttpError(response) + ")");
  }
  if (response.status < 200 || response.status >= 300) {
    return sys::Error::invalid("GET blob " + digest + " from " + host + ": " +
                               describeHttpError(response));
  }
  return sys::ok();
}

}  // namespace berth::image::registry
