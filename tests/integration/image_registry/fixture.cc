// Registry test fixtures (see fixture.h).
#include "tests/integration/image_registry/fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "image/registry/auth.h"

namespace berth::image::registry::test {
namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string base64Url(std::string_view data) {
  std::string s = base64Encode(data);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

}  // namespace

std::string sourceDir() { return BERTH_SOURCE_DIR; }

std::string sh(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen " << cmd;
    return "";
  }
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  if (status != 0) {
    ADD_FAILURE() << "command failed (" << status << "): " << cmd << "\n" << out;
    return "";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool haveTool(const char* name) {
  return std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0;
}

TempDir::TempDir() {
  std::string tmpl = "/tmp/berth-registry-test." + std::to_string(getpid()) + ".XXXXXX";
  if (char* d = mkdtemp(tmpl.data()); d != nullptr) path_ = d;
}

TempDir::~TempDir() {
  if (!path_.empty()) std::system(("rm -rf " + quote(path_)).c_str());
}

LoopbackRegistry::LoopbackRegistry(std::string dir, const std::string& flags)
    : dir_(std::move(dir)) {
  addr_ = sh(sourceDir() + "/hack/registry-fixture.sh start " + quote(dir_) + " " + flags);
}

LoopbackRegistry::~LoopbackRegistry() {
  std::system((sourceDir() + "/hack/registry-fixture.sh stop " + quote(dir_)).c_str());
}

bool LoopbackRegistry::push(const std::string& src, const std::string& nameTag,
                            const std::string& extra) {
  std::string cmd = sourceDir() + "/hack/registry-fixture.sh push " + quote(dir_) + " " +
                    quote(src) + " " + quote(nameTag) + " " + extra + " 2>&1";
  return std::system(cmd.c_str()) == 0;
}

int LoopbackRegistry::accessLines(const std::string& needle) const {
  std::ifstream in(dir_ + "/registry.log");
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++count;
  }
  return count;
}

std::string LoopbackRegistry::blobFile(const std::string& digest) const {
  std::string hex = digest.substr(7);
  return dir_ + "/storage/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex +
         "/data";
}

MiniHttpServer::MiniHttpServer(Handler handler) : handler_(std::move(handler)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listenFd_, 16) != 0 ||
      ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "mini HTTP server setup failed";
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

MiniHttpServer::~MiniHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listenFd_ >= 0) ::close(listenFd_);
}

std::string MiniHttpServer::response(int status, const std::string& headers,
                                     const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

void MiniHttpServer::serve() {
  while (!stop_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    answer(fd);
    ::close(fd);
  }
}

void MiniHttpServer::answer(int fd) {
  // One request per connection, read with a bound so a stuck client cannot
  // hang the test.
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
    // A TLS ClientHello (a client probing for HTTPS): hang up, it falls back.
    if (req[0] == 0x16) return;
  }
  std::string response = handler_(req);
  (void)!::write(fd, response.data(), response.size());
}

TokenServer::TokenServer(std::string dir, std::string user, std::string password)
    : keyFile_(dir + "/token.key"), certFile_(dir + "/token.crt"), user_(std::move(user)),
      password_(std::move(password)) {
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=berth token signer' -keyout " +
     quote(keyFile_) + " -out " + quote(certFile_) + " 2>/dev/null");
  certDerB64_ = sh("openssl x509 -in " + quote(certFile_) + " -outform DER | base64 -w0");
  if (certDerB64_.empty()) return;
  server_ = std::make_unique<MiniHttpServer>([this](const std::string& r) { return answer(r); });
}

TokenServer::~TokenServer() = default;

std::string TokenServer::answer(const std::string& req) {
  std::string scope;
  if (size_t s = req.find("scope="); s != std::string::npos) {
    size_t e = req.find_first_of("& ", s);
    for (size_t i = s + 6; i < e; ++i) {
      if (req[i] == '%' && i + 2 < e) {
        scope += static_cast<char>(std::stoi(req.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        scope += req[i];
      }
    }
  }
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string want = lower("authorization: basic " + base64Encode(user_ + ":" + password_));
  if (lower(req).find(want + "\r\n") == std::string::npos) {
    ++refused_;
    return MiniHttpServer::response(401, "Content-Type: application/json\r\n",
                                    R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})");
  }
  ++issued_;
  std::string body = nlohmann::json{{"token", makeToken(scope)}, {"expires_in", 300}}.dump();
  return MiniHttpServer::response(200, "Content-Type: application/json\r\n", body);
}

std::string TokenServer::makeToken(const std::string& scope) {
  // scope "repository:NAME:pull,push": grant exactly what was asked.
  nlohmann::json access = nlohmann::json::array();
  size_t a = scope.find(':'), b = scope.rfind(':');
  if (a != std::string::npos && b > a) {
    nlohmann::json actions = nlohmann::json::array();
    std::stringstream ss(scope.substr(b + 1));
    for (std::string act; std::getline(ss, act, ',');) actions.push_back(act);
    access.push_back({{"type", scope.substr(0, a)}, {"name", scope.substr(a + 1, b - a - 1)},
                      {"actions", actions}});
  }
  int64_t now = std::time(nullptr);
  nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {certDerB64_}}};
  nlohmann::json claims = {{"iss", kIssuer}, {"sub", user_},   {"aud", kService},
                           {"exp", now + 300}, {"nbf", now - 10}, {"iat", now - 10},
                           {"jti", std::to_string(now) + "-" + std::to_string(issued_)},
                           {"access", access}};
  std::string signingInput = base64Url(header.dump()) + "." + base64Url(claims.dump());

  std::string signature;
  FILE* f = std::fopen(keyFile_.c_str(), "r");
  EVP_PKEY* key = f != nullptr ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
  if (f != nullptr) std::fclose(f);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sigLen = 0;
  if (key != nullptr && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &sigLen,
                     reinterpret_cast<const unsigned char*>(signingInput.data()),
                     signingInput.size()) == 1) {
    signature.resize(sigLen);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &sigLen,
                       reinterpret_cast<const unsigned char*>(signingInput.data()),
                       signingInput.size()) == 1) {
      signature.resize(sigLen);
    } else {
      signature.clear();
    }
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return signingInput + "." + base64Url(signature);
}

}  // namespace berth::image::registry::test
