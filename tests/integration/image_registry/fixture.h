// Test helpers for the registry integration tests: a temp dir, shell
// commands, a real docker-registry on loopback (hack/registry-fixture.sh,
// stopped in the destructor), and a tiny bearer-token server thread that
// signs registry tokens (RS256 JWT with the signing cert in x5c) the way
// docker/distribution's `auth: token` verifies them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace berth::image::registry::test {

std::string sourceDir();
// Runs `cmd` with /bin/sh; returns stdout (trailing newline stripped), or
// fails the current test and returns "" when it exits non-zero.
std::string sh(const std::string& cmd);
bool haveTool(const char* name);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class LoopbackRegistry {
 public:
  // `flags` are hack/registry-fixture.sh start options ("--tls --htpasswd u:p").
  LoopbackRegistry(std::string dir, const std::string& flags);
  ~LoopbackRegistry();
  LoopbackRegistry(const LoopbackRegistry&) = delete;
  LoopbackRegistry& operator=(const LoopbackRegistry&) = delete;

  bool ok() const { return !addr_.empty(); }
  const std::string& addr() const { return addr_; }  // 127.0.0.1:PORT
  const std::string& dir() const { return dir_; }
  std::string caFile() const { return dir_ + "/ca.crt"; }
  // skopeo copy SRC -> addr/NAME:TAG; `extra` e.g. "--all --creds u:p".
  bool push(const std::string& src, const std::string& nameTag, const std::string& extra = "");
  // Access-log lines "GET /v2/<repo>/blobs/..." so far.
  int blobGets(const std::string& repo) const { return accessLines("\"GET /v2/" + repo + "/blobs/"); }
  // Access-log lines containing `needle` ("\"HEAD /v2/app/manifests/").
  int accessLines(const std::string& needle) const;
  // The registry's file holding a blob ("sha256:...").
  std::string blobFile(const std::string& digest) const;

 private:
  std::string dir_;
  std::string addr_;
};

// A one-request-per-connection HTTP server thread on 127.0.0.1 (port picked
// by the kernel); `handler` maps the raw request head to the raw response.
class MiniHttpServer {
 public:
  using Handler = std::function<std::string(const std::string& request)>;
  explicit MiniHttpServer(Handler handler);
  ~MiniHttpServer();
  MiniHttpServer(const MiniHttpServer&) = delete;
  MiniHttpServer& operator=(const MiniHttpServer&) = delete;
  int port() const { return port_; }
  static std::string response(int status, const std::string& headers, const std::string& body);

 private:
  void serve();
  void answer(int fd);
  Handler handler_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Answers GET /token?service=..&scope=repository:NAME:ACTIONS with a JWT the
// registry accepts, if the request's Basic credentials are user:password.
class TokenServer {
 public:
  TokenServer(std::string dir, std::string user, std::string password);
  ~TokenServer();
  TokenServer(const TokenServer&) = delete;
  TokenServer& operator=(const TokenServer&) = delete;

  bool ok() const { return server_ && server_->port() != 0; }
  std::string realm() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/token";
  }
  const std::string& certFile() const { return certFile_; }
  static constexpr const char* kService = "berth-test-registry";
  static constexpr const char* kIssuer = "berth-test-issuer";
  int issued() const { return issued_; }
  int refused() const { return refused_; }

 private:
  std::string answer(const std::string& request);
  std::string makeToken(const std::string& scope);

  std::string keyFile_, certFile_, certDerB64_;
  std::string user_, password_;
  std::atomic<int> issued_{0}, refused_{0};
  std::unique_ptr<MiniHttpServer> server_;  // last: stops before the rest goes
};

}  // namespace berth::image::registry::test
