// Unit tests for runtime/sys/child_process: exit status, kill and reap on
// scope exit, the fds a child sees, non-blocking reaping, pidfds of a
// parent's child and interruptible writes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "runtime/sys/child_process.h"

namespace berth::sys {
namespace {

using namespace std::chrono_literals;

std::string readAll(int fd) {
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  return text;
}

TEST(ChildProcess, ExitStatusAndKillOnScopeExit) {
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "exit 3"}, {});
  ASSERT_TRUE(child) << child.error().str();
  auto status = child->wait();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);

  pid_t pid = 0;
  {
    auto sleeper = ChildProcess::spawn({"/bin/sleep", "100"}, {});
    ASSERT_TRUE(sleeper);
    pid = sleeper->pid();
    EXPECT_EQ(parentOf(pid), ::getpid());
    auto fd = openChildPidfd(pid, ::getpid());
    EXPECT_TRUE(fd.valid());
    EXPECT_FALSE(openChildPidfd(pid, ::getpid() + 1).valid()) << "a wrong parent must not match";
  }
  EXPECT_NE(::kill(pid, 0), 0) << "killed and reaped when it went out of scope";
}

TEST(ChildProcess, ChildSeesOnlyItsStdio) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, 0), 0);  // deliberately without O_CLOEXEC
  UniqueFd r(fds[0]), w(fds[1]);
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd outR(out[0]), outW(out[1]);
  ChildStdio stdio;
  stdio.out = outW.get();
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "ls /proc/self/fd | wc -l"}, stdio);
  ASSERT_TRUE(child);
  outW.reset();
  char buf[64] = {};
  ssize_t n = ::read(outR.get(), buf, sizeof buf - 1);
  ASSERT_GT(n, 0);
  // 0, 1, 2 and the one ls opens to read the directory.
  EXPECT_EQ(std::atoi(buf), 4) << buf;
  ASSERT_TRUE(child->wait());
}

TEST(ChildProcess, ExtraFdsBecomeThreeFourAndSoOn) {
  int a[2], b[2], out[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd aR(a[0]), aW(a[1]), bR(b[0]), bW(b[1]), outR(out[0]), outW(out[1]);
  ASSERT_EQ(::write(aW.get(), "three", 5), 5);
  aW.reset();
  ChildStdio stdio;
  stdio.out = outW.get();
  stdio.extra = {aR.get(), bW.get()};
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "cat <&3; echo four >&4; ls /proc/self/fd | wc -l"}, stdio);
  ASSERT_TRUE(child);
  outW.reset();
  bW.reset();
  // 0-4 and the one ls opens to read the directory.
  EXPECT_EQ(readAll(outR.get()), "three6\n");
  EXPECT_EQ(readAll(bR.get()), "four\n");
  ASSERT_TRUE(child->wait());
}

// The health checks' layout: stdin /dev/null, stdout and stderr one pipe,
// fd 3 another; the child reports its own fds through them.
TEST(ChildProcess, OneFdAsBothOutAndErrAndDevNullIn) {
  int out[2], side[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(side, O_CLOEXEC), 0);
  UniqueFd outR(out[0]), outW(out[1]), sideR(side[0]), sideW(side[1]);
  ChildStdio stdio;
  stdio.out = outW.get();
  stdio.err = outW.get();
  stdio.extra = {sideW.get()};
  auto child = ChildProcess::spawn(
      {"/bin/sh", "-c", "echo out; echo err >&2; echo side >&3; readlink /proc/self/fd/0; cat"},
      stdio);
  ASSERT_TRUE(child) << child.error().str();
  outW.reset();
  sideW.reset();
  EXPECT_EQ(readAll(outR.get()), "out\nerr\n/dev/null\n");
  EXPECT_EQ(readAll(sideR.get()), "side\n");
  auto status = child->wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << "cat read the empty /dev/null and exited";
}

TEST(ChildProcess, TryWaitReapsOnlyOnceExited) {
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "read line; exit 7"}, {});
  ASSERT_TRUE(child);  // reads /dev/null: exits at once
  auto sleeper = ChildProcess::spawn({"/bin/sleep", "100"}, {});
  ASSERT_TRUE(sleeper);
  auto running = sleeper->tryWait();
  ASSERT_TRUE(running) << running.error().str();
  EXPECT_FALSE(running->has_value());
  EXPECT_TRUE(sleeper->running());

  std::optional<int> status;
  for (int i = 0; i < 500 && !status; ++i) {
    auto got = child->tryWait();
    ASSERT_TRUE(got) << got.error().str();
    status = *got;
    if (!status) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(status) << "not reaped within 5 s";
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 7);
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->pidfd(), -1);
  EXPECT_FALSE(child->tryWait()) << "already reaped";

  pid_t pid = sleeper->pid();
  sleeper->signal(SIGKILL);
  auto killed = sleeper->wait();
  ASSERT_TRUE(killed);
  EXPECT_TRUE(WIFSIGNALED(*killed));
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(ChildProcess, EmptyCommandLineIsRefused) {
  auto child = ChildProcess::spawn({}, {});
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().str(), "spawn: empty command line");
}

TEST(WriteAllInterruptible, StopsWhenWokenWhileThePipeIsFull) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd r(p[0]), w(p[1]);
  auto wake = makeEventFd();
  ASSERT_TRUE(wake);
  EXPECT_TRUE(writeAllInterruptible(w.get(), "hello", wake->get()));
  char buf[8] = {};
  ASSERT_EQ(::read(r.get(), buf, sizeof buf), 5);
  EXPECT_STREQ(buf, "hello");

  std::string big(1 << 20, 'x');  // more than a pipe holds: the write waits
  std::thread waker([&] {
    std::this_thread::sleep_for(50ms);
    signalEventFd(wake->get());
  });
  EXPECT_FALSE(writeAllInterruptible(w.get(), big, wake->get()));
  waker.join();
}

TEST(ScratchDir, RemovedWithItsContents) {
  std::string path;
  {
    auto dir = ScratchDir::create("", "unit-" + std::to_string(::getpid()));
    ASSERT_TRUE(dir) << dir.error().str();
    path = dir->path();
    EXPECT_EQ(path.rfind("/tmp/berth-unit-" + std::to_string(::getpid()) + "-", 0), 0u) << path;
    UniqueFd f(::open(dir->file("a").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    ASSERT_TRUE(f.valid());
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace berth::sys
