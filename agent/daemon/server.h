// berthd's accept loop: one thread per connection, each checked against the
// access policy (peer credentials) before a single byte is read, then served
// by api::Connection. A slow or hostile client only ever holds its own
// thread; the loop itself never reads from a connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "agent/api/connection.h"
#include "agent/api/socket.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::daemon {

class Server {
 public:
  Server(api::Listener listener, api::AccessPolicy policy, api::Handler& handler,
         api::ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Accepts and serves until `stopFd` becomes readable (signalfd, eventfd).
  [[nodiscard]] sys::Result<void> run(int stopFd);

  // Hangs up on every open connection (their clients see the daemon gone)
  // and waits up to `timeout` for the connection threads to finish.
  // Returns false when some did not finish in time.
  bool drain(std::chrono::milliseconds timeout);

  size_t activeConnections();

 private:
  void serveOne(uint64_t token, sys::UniqueFd fd);

  api::Listener listener_;
  api::AccessPolicy policy_;
  api::Handler& handler_;
  api::ServerOptions options_;

  std::mutex mutex_;
  std::condition_variable idle_;
  uint64_t nextToken_ = 0;
  // A duplicate of each open connection's socket: shutdown() on it reaches
  // the connection without racing the thread that owns and closes the original.
  std::map<uint64_t, sys::UniqueFd> open_;
};

}  // namespace berth::agent::daemon
