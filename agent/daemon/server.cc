// Accept loop; see server.h.
#include "agent/daemon/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "agent/daemon/log.h"

namespace berth::agent::daemon {

namespace pb = ::berth::api;

Server::Server(api::Listener listener, api::AccessPolicy policy, api::Handler& handler,
               api::ServerOptions options)
    : listener_(std::move(listener)),
      policy_(std::move(policy)),
      handler_(handler),
      options_(std::move(options)) {}

Server::~Server() { drain(std::chrono::seconds(5)); }

sys::Result<void> Server::run(int stopFd) {
  for (;;) {
    struct pollfd fds[2] = {{listener_.fd.get(), POLLIN, 0}, {stopFd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("poll the API socket");
    }
    if (fds[1].revents != 0) return {};
    if (fds[0].revents == 0) continue;
    auto fd = api::acceptConnection(listener_.fd.get());
    if (!fd) {
      // EMFILE and friends: say so and keep serving the connections we have.
      logError("accept on " + listener_.path + ": " + fd.error().what());
      ::poll(nullptr, 0, 100);
      continue;
    }
    sys::UniqueFd shadow(::fcntl(fd->get(), F_DUPFD_CLOEXEC, 0));
    uint64_t token;
    {
      std::lock_guard lock(mutex_);
      token = nextToken_++;
      open_.emplace(token, std::move(shadow));
    }
    std::thread(&Server::serveOne, this, token, std::move(*fd)).detach();
  }
}

void Server::serveOne(uint64_t token, sys::UniqueFd fd) {
  auto peer = api::authorizePeer(fd.get(), policy_);
  if (!peer) {
    logWarn("refused a connection: " + peer.error().what());
    api::refuseConnection(std::move(fd), pb::PERMISSION_DENIED, peer.error().what());
  } else {
    logDebug("connection from pid " + std::to_string(peer->pid) + " uid " +
             std::to_string(peer->uid));
    api::serveConnection(std::move(fd), handler_, options_);
  }
  std::lock_guard lock(mutex_);
  open_.erase(token);
  idle_.notify_all();
}

bool Server::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  for (auto& [token, shadow] : open_) {
    if (shadow) ::shutdown(shadow.get(), SHUT_RDWR);
  }
  return idle_.wait_for(lock, timeout, [this] { return open_.empty(); });
}

size_t Server::activeConnections() {
  std::lock_guard lock(mutex_);
  return open_.size();
}

}  // namespace berth::agent::daemon
