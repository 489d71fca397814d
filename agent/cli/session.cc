// The interactive session pump.
#include "agent/cli/session.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <ostream>
#include <thread>

#include "agent/cli/terminal.h"

namespace berth::agent::cli {

namespace {

// Everything the pump thread needs; it runs until `wake` becomes readable.
class InputPump {
 public:
  InputPump(api::InteractiveSession& session, Io& io, const SessionOptions& options, int signalFd,
            int wakeFd)
      : session_(session), io_(io), options_(options), signalFd_(signalFd), wakeFd_(wakeFd) {}

  void run() {
    bool stdinOpen = options_.forwardStdin;
    for (;;) {
      struct pollfd fds[3] = {
          {wakeFd_, POLLIN, 0}, {signalFd_, POLLIN, 0}, {stdinOpen ? io_.stdinFd : -1, POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents != 0) return;
      if (fds[1].revents != 0 && !forwardSignals()) return;
      if (fds[2].revents != 0 && !forwardStdin(stdinOpen)) return;
    }
  }

 private:
  bool forwardSignals() {
    unsigned char byte = 0;
    while (::read(signalFd_, &byte, 1) == 1) {
      if (byte == SIGWINCH) {
        auto size = terminalSize(io_.stdoutFd);
        if (!size) size = terminalSize(io_.stdinFd);
        if (size && options_.tty && !session_.resize(size->rows, size->cols)) return false;
      } else if (!session_.signal(byte)) {
        return false;
      }
    }
    return true;
  }

  bool forwardStdin(bool& open) {
    char buf[32 * 1024];
    ssize_t n = ::read(io_.stdinFd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n > 0) return session_.sendStdin(std::string_view(buf, static_cast<size_t>(n)));
    open = false;  // EOF (or a read error, which ends our input the same way)
    return session_.closeStdin();
  }

  api::InteractiveSession& session_;
  Io& io_;
  const SessionOptions& options_;
  int signalFd_;
  int wakeFd_;
};

void writeOutput(Io& io, const pb::ExecOutput& output) {
  std::ostream& stream = output.stream() == pb::OUTPUT_STDERR ? *io.err : *io.out;
  stream.write(output.data().data(), static_cast<std::streamsize>(output.data().size()));
  stream.flush();
}

}  // namespace

void fillTerminalSize(const Io& io, bool tty, pb::TerminalSize* size) {
  if (!tty) return;
  auto ws = terminalSize(io.stdoutFd);
  if (!ws) ws = terminalSize(io.stdinFd);
  if (!ws) return;
  size->set_rows(ws->rows);
  size->set_cols(ws->cols);
}

api::CallResult<pb::ExitStatus> runSession(api::InteractiveSession& session, Io& io,
                                           const SessionOptions& options) {
  std::optional<RawTerminal> raw;
  if (options.tty && io.stdinIsTty) {
    auto enabled = RawTerminal::enable(io.stdinFd);
    if (enabled) raw.emplace(std::move(enabled).value());
  }
  std::optional<SignalPipe> signals;
  if (io.handleSignals) {
    auto installed = SignalPipe::install({SIGWINCH, SIGINT, SIGTERM});
    if (installed) signals.emplace(std::move(installed).value());
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) return sys::Error::fromErrno("pipe for the session");
  sys::UniqueFd wakeRead(wake[0]);
  sys::UniqueFd wakeWrite(wake[1]);

  InputPump pump(session, io, options, signals ? signals->fd() : -1, wakeRead.get());
  std::thread input([&pump] { pump.run(); });

  std::optional<api::CallError> failure;
  for (;;) {
    auto chunk = session.receive();
    if (!chunk.ok()) {
      failure = std::move(chunk).error();
      break;
    }
    if (!chunk->has_value()) break;
    writeOutput(io, **chunk);
  }
  (void)!::write(wakeWrite.get(), "x", 1);
  input.join();
  if (failure) return *failure;
  return session.exitStatus();
}

}  // namespace berth::agent::cli
