// Seccomp in and around the child: loading a compiled program with the raw
// seccomp(2) syscall, and handing the notification fd to a seccomp agent
// following the runtime-spec "container process state" protocol.
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "runtime/security/seccomp.h"

namespace berth::runtime::security {
namespace {

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

// Sends all of `data`; the fd rides on the first sendmsg only, as the spec requires.
sys::Result<void> sendWithFd(int sock, std::string_view data, int fd) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  ssize_t sent = 0;
  do {
    sent = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return sys::Error::fromErrno("send seccomp listener fd");
  for (size_t done = static_cast<size_t>(sent); done < data.size();) {
    ssize_t n = ::send(sock, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("send seccomp container process state");
    done += static_cast<size_t>(n);
  }
  return sys::ok();
}

}  // namespace

sys::Result<sys::UniqueFd> loadSeccompInChild(const SeccompProgram& program) {
  // No linux.seccomp in the config: nothing to load.
  if (program.filter.empty()) return sys::UniqueFd();
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.filter.size());
  prog.filter = const_cast<sock_filter*>(program.filter.data());
  unsigned flags = program.flags;
  if (program.usesNotify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) {
    const int err = errno;  // EACCES: neither no_new_privs nor CAP_SYS_ADMIN
    return sys::Error(err, "load seccomp filter");
  }
  if (program.usesNotify) return sys::UniqueFd(static_cast<int>(rc));
  return sys::UniqueFd();
}

std::string encodeSeccompListenerMessage(const SeccompListenerMessage& message) {
  std::string out = "{\"ociVersion\":";
  appendJsonString(out, message.ociVersion);
  // runc names the one fd it passes "seccompFd"; agents look for that name.
  out += ",\"fds\":[\"seccompFd\"],\"pid\":";
  out += std::to_string(message.pid);
  out += ",\"metadata\":";
  appendJsonString(out, message.metadata);
  out += ",\"state\":";
  out += message.stateJson.empty() ? std::string_view("{}") : std::string_view(message.stateJson);
  out += '}';
  return out;
}

sys::Result<void> sendSeccompListenerFromParent(const std::string& listenerPath, int listenerFd,
                                                const SeccompListenerMessage& message) {
  const std::string where = "seccomp listener " + listenerPath;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listenerPath.empty() || listenerPath.size() >= sizeof addr.sun_path) {
    return sys::Error(ENAMETOOLONG, where + ": path must be 1 to " +
                                        std::to_string(sizeof addr.sun_path - 1) +
                                        " bytes for a unix socket");
  }
  std::memcpy(addr.sun_path, listenerPath.data(), listenerPath.size());
  sys::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys::Error::fromErrno(where + ": socket");
  int rc = 0;
  do {
    rc = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return sys::Error::fromErrno(where + ": connect");
  return sendWithFd(sock.get(), encodeSeccompListenerMessage(message), listenerFd).context(where);
}

}  // namespace berth::runtime::security
