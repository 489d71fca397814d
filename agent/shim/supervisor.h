// The shim's event loop once the container runs: relays the container's
// output into the log and to attach clients, feeds attach input to the
// container's stdin, reaps the init and any orphans (the shim is a child
// subreaper), and, once the init has exited, drains what is left in the
// pipes.
//
// One thread, one poll() over a handful of fds and one fixed read buffer:
// the shim must stay small (target: conmon's ~270 KiB RSS). The container
// is never blocked for long by a slow disk because its stdout/stderr pipes
// are enlarged (F_SETPIPE_SZ, 1 MiB): the kernel holds that bounded backlog
// while a log write is in progress, at no cost to the shim's own memory.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "agent/logs/writer.h"
#include "agent/shim/attach_server.h"
#include "agent/shim/exit_status.h"
#include "runtime/sys/fd.h"

namespace berth::agent::shim {

// The shim's ends of the container's stdio.
struct ShimIo {
  sys::UniqueFd out;  // stdout pipe read end, or the pty master
  sys::UniqueFd err;  // stderr pipe read end; none with a tty
  sys::UniqueFd in;   // stdin pipe write end, or a dup of the pty master; none without --stdin
  bool tty = false;
};

class Supervisor final : public FrameDecoder::Handler {
 public:
  Supervisor(ShimIo io, logs::LogWriter& log, AttachServer& attach, int signalFd, pid_t initPid, int dirfd);

  // Runs until the init has exited and its output is drained; returns how
  // it ended.
  ExitStatus run();

  void onStdin(std::string_view data) override;
  void onCloseStdin() override;
  void onResize(WindowSize size) override;

 private:
  void reapChildren();
  // Reads what `fd` has (a few reads at most); false at end of file.
  bool relay(int fd, logs::Stream stream);
  void flushStdin();
  void closeStdin();
  void noteLogError(const sys::Error& error);
  bool drained() const { return !io_.out && !io_.err; }

  ShimIo io_;
  logs::LogWriter& log_;
  AttachServer& attach_;
  int signalFd_;
  pid_t initPid_;
  int dirfd_;
  bool initExited_ = false;
  ExitStatus status_;
  std::string pendingStdin_;
  bool closeStdinWhenFlushed_ = false;
  bool loggedError_ = false;
};

}  // namespace berth::agent::shim
