// Interactive sessions on a real pseudo-terminal: the size is announced, the
// terminal is raw during the session and restored after it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <sstream>
#include <thread>

#include "agent/cli/terminal.h"
#include "fake_daemon.h"

namespace berth::agent::cli::testing {
namespace {

struct Pty {
  sys::UniqueFd master;
  sys::UniqueFd slave;
};

Pty openPty() {
  Pty pty;
  pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  EXPECT_TRUE(pty.master.valid());
  EXPECT_EQ(::grantpt(pty.master.get()), 0);
  EXPECT_EQ(::unlockpt(pty.master.get()), 0);
  pty.slave.reset(::open(::ptsname(pty.master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  EXPECT_TRUE(pty.slave.valid());
  struct winsize ws {};
  ws.ws_row = 33;
  ws.ws_col = 101;
  EXPECT_EQ(::ioctl(pty.slave.get(), TIOCSWINSZ, &ws), 0);
  return pty;
}

TEST(Terminal, SizeAndRawModeRestoredOnDestruction) {
  Pty pty = openPty();
  auto size = terminalSize(pty.slave.get());
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->rows, 33u);
  EXPECT_EQ(size->cols, 101u);
  EXPECT_FALSE(terminalSize(-1).has_value());
  struct termios before {};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &before), 0);
  ASSERT_TRUE(before.c_lflag & ECHO);
  {
    auto raw = RawTerminal::enable(pty.slave.get());
    ASSERT_TRUE(raw.ok()) << raw.error().str();
    struct termios during {};
    ASSERT_EQ(::tcgetattr(pty.slave.get(), &during), 0);
    EXPECT_FALSE(during.c_lflag & (ECHO | ICANON | ISIG));
  }
  struct termios after {};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
}

TEST(Terminal, SignalPipeDeliversSignalNumbers) {
  auto pipe = SignalPipe::install({SIGWINCH});
  ASSERT_TRUE(pipe.ok());
  EXPECT_FALSE(SignalPipe::install({SIGWINCH}).ok());  // only one at a time
  ASSERT_EQ(::raise(SIGWINCH), 0);
  EXPECT_EQ(pipe->next(), SIGWINCH);
  EXPECT_EQ(pipe->next(), 0);
}

TEST(TtySession, ExecOnATerminal) {
  FakeHandler handler;
  handler.endAfterFirstInput = true;
  handler.exitCode = 5;
  FakeDaemon daemon(handler);
  Pty pty = openPty();
  struct termios before {};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &before), 0);

  std::ostringstream out;
  std::ostringstream err;
  Io io;
  io.out = &out;
  io.err = &err;
  io.stdinFd = pty.slave.get();
  io.stdoutFd = pty.slave.get();
  io.stdinIsTty = true;
  io.stdoutIsTty = true;
  io.env = [](const std::string&) { return std::nullopt; };
  io.nowNs = [] { return int64_t{0}; };
  // Typed on the keyboard: in raw mode it arrives at once, without Enter.
  ASSERT_EQ(::write(pty.master.get(), "q", 1), 1);
  std::string socket = daemon.socketPath();
  std::vector<std::string> args = {"berth", "--socket", socket, "exec", "-it", "web", "sh"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int code = cliMain(static_cast<int>(argv.size()), argv.data(), io);

  EXPECT_EQ(code, 5) << err.str();
  EXPECT_EQ(out.str(), "echo:qexec sh\n");
  std::lock_guard lock(handler.mutex);
  EXPECT_TRUE(handler.lastExec.tty());
  EXPECT_EQ(handler.lastExec.size().rows(), 33u);
  EXPECT_EQ(handler.lastExec.size().cols(), 101u);
  struct termios after {};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);  // restored
}

}  // namespace
}  // namespace berth::agent::cli::testing
