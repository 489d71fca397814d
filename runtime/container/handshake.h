// The typed message protocol between the runtime (parent) and the container
// init or exec child, over one SOCK_SEQPACKET socketpair.
//
// Messages are fixed-size records so the child can send them without
// allocating; a file descriptor may travel with a message (SCM_RIGHTS).
// A child that fails sends kError with errno and a description, so the user
// reads "mount proc on /proc: Permission denied", never "exit status 1".
//
// Create sequence:           parent                      child (init)
//                            clone3 ───────────────────►  waits for kGo
//   uid/gid maps, oom_score_adj ─ kGo ────────────────►  joins its v1 cgroups
//                                                       itself (cgroups.h),
//                                                       namespaces, mounts
//                     ◄── kRunHooks ─ (rootfs mounted, before pivot_root)
//   prestart + createRuntime hooks ─ kHooksDone ──────►  createContainer hooks,
//                                                       pivot_root, process setup
//                     ◄── kReady ─  (waits on exec.fifo for `start`)
// Any step may instead answer kError; either side then gives up.
#pragma once

#include <cstdint>
#include <optional>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

enum class MsgType : uint32_t {
  kGo = 1,
  kRunHooks,
  kHooksDone,
  kReady,
  kError,
  kChildPid,  // an intermediate child reports the pid of the real init
};

struct Message {
  MsgType type{};
  int32_t code = 0;  // errno for kError, pid for kChildPid
  char text[3072] = {};
};

class Channel {
 public:
  // A connected pair: first end for the parent, second for the child.
  static sys::Result<std::pair<Channel, Channel>> pair();
  Channel() = default;
  explicit Channel(sys::UniqueFd fd) : fd_(std::move(fd)) {}

  sys::Result<void> send(MsgType type, int32_t code = 0, const char* text = nullptr, int fd = -1);
  sys::Result<void> sendError(const sys::Error& error);
  // Receives one message; an EOF is reported as ECONNRESET. A passed fd lands in *fd.
  sys::Result<Message> receive(sys::UniqueFd* fd = nullptr);
  // Receives and requires `type`; a kError message becomes the returned error.
  sys::Result<Message> expect(MsgType type, sys::UniqueFd* fd = nullptr);

  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  sys::UniqueFd fd_;
};

// Sends/receives a single fd over any unix socket (console socket protocol).
sys::Result<void> sendFd(int sock, int fd, const char* name);
sys::Result<sys::UniqueFd> receiveFd(int sock);

}  // namespace berth::runtime::container
