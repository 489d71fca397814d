// Listening socket setup and peer credential checks (see socket.h).
#include "agent/api/socket.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>

#include "runtime/sys/fs.h"

namespace berth::agent::api {
namespace {

sys::Result<sockaddr_un> unixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return sys::Error(ENAMETOOLONG, "socket path \"" + path + "\" must be 1 to " +
                                        std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  path.copy(addr.sun_path, path.size());
  return addr;
}

std::string parentDir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A socket file left by a daemon that died: nobody accepts on it.
sys::Result<void> removeStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return sys::ok();
    return sys::Error::fromErrno("stat " + path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return sys::Error(EEXIST, path + " exists and is not a socket; refusing to replace it");
  }
  auto probe = connectUnix(path);
  if (probe.ok()) {
    return sys::Error(EADDRINUSE, "another daemon is listening on " + path);
  }
  if (probe.error().code() != ECONNREFUSED) return std::move(probe).error();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sys::Error::fromErrno("remove stale socket " + path);
  }
  return sys::ok();
}

sys::Result<sys::UniqueFd> lockSocketPath(const std::string& path) {
  std::string lockPath = path + ".lock";
  sys::UniqueFd fd(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return sys::Error::fromErrno("open " + lockPath);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return sys::Error(EADDRINUSE, "another daemon holds " + lockPath);
    }
    return sys::Error::fromErrno("lock " + lockPath);
  }
  return fd;
}

bool userInGroup(uid_t uid, gid_t primary, gid_t group) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<std::size_t>(size) : 16384, '\0');
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return false;
  }
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (::getgrouplist(pw.pw_name, primary, groups.data(), &count) < 0) {
    if (count <= static_cast<int>(groups.size())) return false;
    groups.resize(static_cast<std::size_t>(count));
  }
  groups.resize(static_cast<std::size_t>(count));
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

}  // namespace

sys::Result<std::optional<gid_t>> lookupGroup(const std::string& name) {
  if (name.empty()) return std::optional<gid_t>();
  long size = ::sysconf(_SC_GETGR_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<std::size_t>(size) : 16384, '\0');
  for (;;) {
    group gr{};
    group* found = nullptr;
    int rc = ::getgrnam_r(name.c_str(), &gr, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0) return sys::Error(rc, "look up group " + name);
    if (found == nullptr) return std::optional<gid_t>();
    return std::optional<gid_t>(gr.gr_gid);
  }
}

sys::Result<Listener> listenUnix(const ListenOptions& options) {
  sockaddr_un addr = BERTH_TRY(unixAddress(options.path));
  BERTH_TRY_CTX(sys::mkdirAll(parentDir(options.path), 0755), "create socket directory");
  Listener listener;
  listener.path = options.path;
  listener.lock = BERTH_TRY(lockSocketPath(options.path));
  BERTH_TRY(removeStaleSocket(options.path));
  listener.group = BERTH_TRY(lookupGroup(options.group));

  listener.fd = sys::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.fd) return sys::Error::fromErrno("create unix socket");
  if (::bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return sys::Error::fromErrno("bind " + options.path);
  }
  // Until listen() every connect() is refused, so fixing owner and mode here
  // leaves no window with a wider mode.
  mode_t mode = listener.group ? 0660 : 0600;
  if (listener.group && ::chown(options.path.c_str(), ::geteuid(), *listener.group) != 0) {
    int err = errno;
    ::unlink(options.path.c_str());
    return sys::Error(err, "chown " + options.path + " to group " + options.group);
  }
  if (::chmod(options.path.c_str(), mode) != 0) {
    int err = errno;
    ::unlink(options.path.c_str());
    return sys::Error(err, "chmod " + options.path);
  }
  if (::listen(listener.fd.get(), options.backlog) != 0) {
    int err = errno;
    ::unlink(options.path.c_str());
    return sys::Error(err, "listen on " + options.path);
  }
  return listener;
}

sys::Result<sys::UniqueFd> acceptConnection(int listenFd) {
  for (;;) {
    int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return sys::UniqueFd(fd);
    // These concern only the connection that was given up, not the listener.
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    return sys::Error::fromErrno("accept");
  }
}

sys::Result<sys::UniqueFd> connectUnix(const std::string& path) {
  sockaddr_un addr = BERTH_TRY(unixAddress(path));
  sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys::Error::fromErrno("create unix socket");
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return sys::Error::fromErrno("connect to " + path);
  return fd;
}

sys::Result<PeerCredentials> peerCredentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return sys::Error::fromErrno("read peer credentials (SO_PEERCRED)");
  }
  PeerCredentials peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  std::vector<gid_t> groups(64);
  for (;;) {
    socklen_t bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      peer.groups = std::move(groups);
      peer.groupsKnown = true;
      return peer;
    }
    // ERANGE reports the size needed in `bytes`.
    if (errno == ERANGE && bytes / sizeof(gid_t) > groups.size()) {
      groups.resize(bytes / sizeof(gid_t));
      continue;
    }
    if (errno == ENOPROTOOPT) {
      // Kernel older than 4.13: fall back to the group database.
      peer.groups.clear();
      return peer;
    }
    return sys::Error::fromErrno("read peer groups (SO_PEERGROUPS)");
  }
}

sys::Result<AccessPolicy> accessPolicy(const std::string& groupName) {
  AccessPolicy policy;
  policy.ownerUid = ::geteuid();
  policy.group = BERTH_TRY(lookupGroup(groupName));
  policy.groupName = groupName;
  return policy;
}

bool peerAllowed(const PeerCredentials& peer, const AccessPolicy& policy) {
  if (peer.uid == 0 || peer.uid == policy.ownerUid) return true;
  if (!policy.group) return false;
  gid_t group = *policy.group;
  if (peer.gid == group) return true;
  if (std::find(peer.groups.begin(), peer.groups.end(), group) != peer.groups.end()) return true;
  // Only without SO_PEERGROUPS: ask the group database about the user.
  return !peer.groupsKnown && userInGroup(peer.uid, peer.gid, group);
}

sys::Result<PeerCredentials> authorizePeer(int fd, const AccessPolicy& policy) {
  PeerCredentials peer = BERTH_TRY(peerCredentials(fd));
  if (peerAllowed(peer, policy)) return peer;
  std::string who = "uid " + std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) + ")";
  if (!policy.group) {
    return sys::Error(EACCES, who + " may not use berthd: only root may (no group \"" +
                                  policy.groupName + "\" exists)");
  }
  return sys::Error(EACCES, who +
                                " may not use berthd: run as root, or ask an administrator to "
                                "add the user to group \"" +
                                policy.groupName + "\" (gid " + std::to_string(*policy.group) +
                                ") and log in again");
}

}  // namespace berth::agent::api
