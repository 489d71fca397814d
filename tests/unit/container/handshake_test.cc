// The parent/child handshake: typed messages, errors that keep their errno,
// fds travelling with messages, and the console-socket fd protocol.
#include "runtime/container/handshake.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "tests/unit/container/testutil.h"

namespace berth::runtime::container {
namespace {

using ::testing::HasSubstr;

std::pair<Channel, Channel> makePair() {
  auto p = Channel::pair();
  EXPECT_TRUE(p.ok());
  return std::move(*p);
}

TEST(Channel, PairIsConnectedBothWays) {
  auto [parent, child] = makePair();
  EXPECT_GE(parent.fd(), 0);
  EXPECT_GE(child.fd(), 0);
  EXPECT_NE(::fcntl(parent.fd(), F_GETFD) & FD_CLOEXEC, 0)
      << "the runtime's end must not leak into exec";

  ASSERT_TRUE(parent.send(MsgType::kGo).ok());
  auto m = child.receive();
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->type, MsgType::kGo);

  ASSERT_TRUE(child.send(MsgType::kReady).ok());
  auto back = parent.receive();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->type, MsgType::kReady);
}

TEST(Channel, EveryTypeArrivesWithItsCodeAndText) {
  auto [parent, child] = makePair();
  const MsgType types[] = {MsgType::kGo,    MsgType::kRunHooks, MsgType::kHooksDone,
                           MsgType::kReady, MsgType::kError,    MsgType::kChildPid};
  int32_t code = 10;
  for (MsgType t : types) {
    std::string text = "message " + std::to_string(static_cast<int>(t));
    ASSERT_TRUE(child.send(t, code, text.c_str()).ok());
    auto m = parent.receive();
    ASSERT_TRUE(m.ok()) << m.error().str();
    EXPECT_EQ(m->type, t);
    EXPECT_EQ(m->code, code);
    EXPECT_STREQ(m->text, text.c_str());
    ++code;
  }
}

TEST(Channel, MessagesKeepTheirBoundaries) {
  auto [parent, child] = makePair();
  ASSERT_TRUE(child.send(MsgType::kChildPid, 1234, "a long first message").ok());
  ASSERT_TRUE(child.send(MsgType::kReady, 0, "b").ok());
  auto first = parent.receive();
  auto second = parent.receive();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->code, 1234);
  EXPECT_STREQ(first->text, "a long first message");
  EXPECT_EQ(second->type, MsgType::kReady);
  EXPECT_STREQ(second->text, "b") << "no text may leak over from the previous message";
}

TEST(Channel, TextLongerThanTheBufferIsTruncatedAndTerminated) {
  auto [parent, child] = makePair();
  std::string longText(10000, 'x');
  ASSERT_TRUE(child.send(MsgType::kError, EIO, longText.c_str()).ok());
  auto m = parent.receive();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::strlen(m->text), sizeof(m->text) - 1);
  EXPECT_EQ(std::string(m->text), longText.substr(0, sizeof(m->text) - 1));
}

TEST(Channel, ExpectReturnsTheMessageOfTheRightType) {
  auto [parent, child] = makePair();
  ASSERT_TRUE(child.send(MsgType::kChildPid, 77).ok());
  auto m = parent.expect(MsgType::kChildPid);
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->code, 77);
}

TEST(Channel, ExpectTurnsAChildErrorIntoAnErrorWithItsErrno) {
  auto [parent, child] = makePair();
  ASSERT_TRUE(child.sendError(sys::Error(EACCES, "mount proc on /proc")).ok());
  auto m = parent.expect(MsgType::kReady);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), EACCES);
  EXPECT_EQ(m.error().what(), "mount proc on /proc");
  EXPECT_EQ(m.error().str(), "mount proc on /proc: Permission denied");
}

TEST(Channel, ExpectRejectsAnUnexpectedType) {
  auto [parent, child] = makePair();
  ASSERT_TRUE(child.send(MsgType::kRunHooks).ok());
  auto m = parent.expect(MsgType::kReady);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().str(), HasSubstr("expected message"));
}

TEST(Channel, EofIsConnectionReset) {
  auto [parent, child] = makePair();
  child.close();
  auto m = parent.receive();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ECONNRESET);
  auto e = parent.expect(MsgType::kReady);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ECONNRESET);
}

TEST(Channel, SendToAClosedPeerFailsWithoutSigpipe) {
  auto [parent, child] = makePair();
  parent.close();
  // MSG_NOSIGNAL: the gtest process would die of SIGPIPE otherwise.
  auto r = child.send(MsgType::kReady);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), EPIPE);
}

TEST(Channel, PassesAnFdAlongsideAMessage) {
  auto [parent, child] = makePair();
  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  sys::UniqueFd readEnd(pipefd[0]), writeEnd(pipefd[1]);

  ASSERT_TRUE(child.send(MsgType::kReady, 0, "fifo", writeEnd.get()).ok());
  writeEnd.reset();  // only the passed copy remains
  sys::UniqueFd received;
  auto m = parent.expect(MsgType::kReady, &received);
  ASSERT_TRUE(m.ok()) << m.error().str();
  ASSERT_TRUE(received.valid());
  EXPECT_STREQ(m->text, "fifo");
  EXPECT_NE(::fcntl(received.get(), F_GETFD) & FD_CLOEXEC, 0) << "received fds are close-on-exec";

  ASSERT_EQ(::write(received.get(), "hi", 2), 2);
  received.reset();
  char buf[8] = {};
  EXPECT_EQ(::read(readEnd.get(), buf, sizeof(buf)), 2);
  EXPECT_STREQ(buf, "hi");
  EXPECT_EQ(::read(readEnd.get(), buf, sizeof(buf)), 0)
      << "no other copy of the write end is left open";
}

TEST(Channel, AnUnwantedFdIsClosedNotLeaked) {
  auto [parent, child] = makePair();
  sys::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(devnull.valid());
  int before = testing::openFdCount();
  ASSERT_TRUE(child.send(MsgType::kGo, 0, nullptr, devnull.get()).ok());
  auto m = parent.receive();  // no place for an fd
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(testing::openFdCount(), before);
}

TEST(ConsoleSocketFd, SendFdAndReceiveFdOverAStreamSocket) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  sys::UniqueFd a(sv[0]), b(sv[1]);
  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  sys::UniqueFd readEnd(pipefd[0]), writeEnd(pipefd[1]);

  ASSERT_TRUE(sendFd(a.get(), writeEnd.get(), "/dev/pts/7").ok());
  writeEnd.reset();
  auto fd = receiveFd(b.get());
  ASSERT_TRUE(fd.ok()) << fd.error().str();
  ASSERT_EQ(::write(fd->get(), "ok", 2), 2);
  char buf[4] = {};
  EXPECT_EQ(::read(readEnd.get(), buf, sizeof(buf)), 2);
  EXPECT_STREQ(buf, "ok");
}

TEST(ConsoleSocketFd, ReceiveWithoutAnFdIsAnError) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  sys::UniqueFd a(sv[0]), b(sv[1]);
  ASSERT_EQ(::write(a.get(), "x", 1), 1);
  auto fd = receiveFd(b.get());
  ASSERT_FALSE(fd.ok());
  EXPECT_THAT(fd.error().str(), HasSubstr("no file descriptor received"));
}

TEST(ConsoleSocketFd, SendFdToAClosedPeerFails) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  sys::UniqueFd a(sv[0]), b(sv[1]);
  b.reset();
  auto r = sendFd(a.get(), 0, "stdin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), EPIPE);
}

}  // namespace
}  // namespace berth::runtime::container
