// berthd's unix socket: creating the listening socket and deciding who may
// talk to it.
//
// Who may connect: root, the daemon's own user, and members of the group
// "berth". Two checks guard that, on purpose redundant:
//  - the socket file is 0660 root:berth (0600, owner only, when no group
//    "berth" exists), so the kernel refuses connect() to anyone else;
//  - after accept, the peer's credentials (SO_PEERCRED, and its supplementary
//    groups from SO_PEERGROUPS, both captured by the kernel at connect time,
//    so no /proc race) are checked again, which also covers an fd passed on
//    to another process or a socket whose mode was loosened by hand.
// When the kernel lacks SO_PEERGROUPS, the group database (getgrouplist of
// the peer uid's user) is asked instead.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::api {

inline constexpr const char* kDefaultSocketPath = "/run/berth/berthd.sock";
inline constexpr const char* kSocketGroup = "berth";

// The gid of `name`, or nullopt when the group does not exist.
sys::Result<std::optional<gid_t>> lookupGroup(const std::string& name);

struct ListenOptions {
  std::string path = kDefaultSocketPath;
  std::string group = kSocketGroup;  // empty: owner only
  int backlog = 128;
};

struct Listener {
  sys::UniqueFd fd;
  // Held while listening: flock on "<path>.lock" makes a second daemon on the
  // same path fail instead of stealing the socket.
  sys::UniqueFd lock;
  std::string path;
  std::optional<gid_t> group;  // the group given access, if it exists
};

// Creates the parent directory (0755) if missing, replaces a stale socket
// (one nobody listens on; never a non-socket file, never a live socket),
// binds, sets owner root:<group> and mode 0660 (0600 without the group)
// before listen(), so nobody can connect while the mode is still wrong.
sys::Result<Listener> listenUnix(const ListenOptions& options);

// accept4 with CLOEXEC, retried on EINTR and on errors that concern only the
// one aborted connection.
sys::Result<sys::UniqueFd> acceptConnection(int listenFd);

// connect() to a berthd socket (the client side).
sys::Result<sys::UniqueFd> connectUnix(const std::string& path);

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups at connect time
  bool groupsKnown = false;   // false: the kernel lacks SO_PEERGROUPS
};

sys::Result<PeerCredentials> peerCredentials(int fd);

struct AccessPolicy {
  uid_t ownerUid = 0;          // the daemon's euid: always allowed, as is root
  std::optional<gid_t> group;  // members allowed
  std::string groupName = kSocketGroup;
};

// The policy for a daemon running as the current euid with the group `name`.
sys::Result<AccessPolicy> accessPolicy(const std::string& groupName = kSocketGroup);

// Pure decision on credentials already read (unit-tested on its own).
bool peerAllowed(const PeerCredentials& peer, const AccessPolicy& policy);

// Reads the peer's credentials and decides; EACCES with a message that tells
// the user what to do when refused.
sys::Result<PeerCredentials> authorizePeer(int fd, const AccessPolicy& policy);

}  // namespace berth::agent::api
