// The listening socket (directory, mode, stale and live sockets) and the
// peer check, including a real non-root peer (root only: skipped otherwise).
#include "agent/api/socket.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <thread>

#include "agent/api/client.h"
#include "agent/api/connection.h"
#include "fake_handler.h"
#include "runtime/sys/fs.h"

namespace berth::agent::api {
namespace {

constexpr uid_t kNobody = 65534;

class SocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-api-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)sys::removeAll(dir_).ok(); }
  std::string dir_;
};

TEST_F(SocketTest, CreatesParentDirAndOwnerOnlySocketWithoutGroup) {
  ListenOptions options;
  options.path = dir_ + "/run/berth/berthd.sock";
  options.group = "berth-test-no-such-group-" + std::to_string(::getpid());
  auto listener = listenUnix(options);
  ASSERT_TRUE(listener.ok()) << listener.error().str();
  EXPECT_FALSE(listener->group.has_value());
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/run/berth").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat(options.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto fd = connectUnix(options.path);
  EXPECT_TRUE(fd.ok()) << fd.error().str();
}

TEST_F(SocketTest, GroupGetsMode0660AndOwnership) {
  // Any existing group will do; the gid of this process is one.
  group* gr = ::getgrgid(::getegid());
  ASSERT_NE(gr, nullptr);
  ListenOptions options;
  options.path = dir_ + "/g.sock";
  options.group = gr->gr_name;
  auto listener = listenUnix(options);
  ASSERT_TRUE(listener.ok()) << listener.error().str();
  ASSERT_TRUE(listener->group.has_value());
  struct stat st {};
  ASSERT_EQ(::stat(options.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, *listener->group);
}

TEST_F(SocketTest, StaleSocketIsReplacedLiveOneIsNot) {
  ListenOptions options;
  options.path = dir_ + "/d.sock";
  options.group = "";
  {
    auto first = listenUnix(options);
    ASSERT_TRUE(first.ok()) << first.error().str();
    // A second daemon on the same path while the first lives.
    auto second = listenUnix(options);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), EADDRINUSE);
  }
  // The first one died without removing its socket file: stale.
  ASSERT_TRUE(sys::pathExists(options.path));
  auto again = listenUnix(options);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_TRUE(connectUnix(options.path).ok());
}

TEST_F(SocketTest, LiveSocketOfAnotherProcessIsNotStolen) {
  // A listener that holds no lock (another tool): connect succeeds, so it stays.
  std::string path = dir_ + "/live.sock";
  sys::UniqueFd other(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(::bind(other.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(other.get(), 4), 0);
  ListenOptions options;
  options.path = path;
  auto listener = listenUnix(options);
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code(), EADDRINUSE);
}

TEST_F(SocketTest, RegularFileIsNeverReplaced) {
  ListenOptions options;
  options.path = dir_ + "/file.sock";
  ASSERT_TRUE(sys::writeFileAtomic(options.path, "keep").ok());
  auto listener = listenUnix(options);
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code(), EEXIST);
  EXPECT_EQ(*sys::readFile(options.path), "keep");
}

TEST_F(SocketTest, TooLongPathIsRejected) {
  ListenOptions options;
  options.path = dir_ + "/" + std::string(120, 'x');
  auto listener = listenUnix(options);
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code(), ENAMETOOLONG);
}

TEST(PeerTest, SocketPairPeerIsOurselves) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  sys::UniqueFd a(fds[0]), b(fds[1]);
  auto peer = peerCredentials(a.get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  EXPECT_EQ(peer->pid, ::getpid());
  EXPECT_EQ(peer->uid, ::geteuid());
  EXPECT_TRUE(peer->groupsKnown);
}

TEST(PeerTest, PolicyDecisions) {
  AccessPolicy policy;
  policy.ownerUid = 1000;
  policy.group = 2000;
  auto peer = [](uid_t uid, gid_t gid, std::vector<gid_t> groups) {
    PeerCredentials p;
    p.uid = uid;
    p.gid = gid;
    p.groups = std::move(groups);
    p.groupsKnown = true;
    return p;
  };
  EXPECT_TRUE(peerAllowed(peer(0, 0, {}), policy));               // root
  EXPECT_TRUE(peerAllowed(peer(1000, 1000, {}), policy));         // the daemon's user
  EXPECT_TRUE(peerAllowed(peer(1234, 2000, {}), policy));         // primary group
  EXPECT_TRUE(peerAllowed(peer(1234, 1234, {5, 2000}), policy));  // supplementary
  EXPECT_FALSE(peerAllowed(peer(1234, 1234, {5, 6}), policy));
  policy.group.reset();
  EXPECT_FALSE(peerAllowed(peer(1234, 2000, {2000}), policy));  // no group: root only
}

// Accepts one connection on `listenFd`, checks the peer against `policy` and
// either serves it or refuses it the way berthd does.
void serveOne(int listenFd, const AccessPolicy& policy, Handler& handler) {
  auto fd = acceptConnection(listenFd);
  ASSERT_TRUE(fd.ok());
  auto peer = authorizePeer(fd->get(), policy);
  if (!peer.ok()) {
    refuseConnection(std::move(fd).value(), pb::PERMISSION_DENIED, peer.error().what());
    return;
  }
  serveConnection(std::move(fd).value(), handler);
}

// Forks a child that drops to nobody (with `groups` as its supplementary
// groups) and says hello; returns what the client saw as an exit code:
// 0 served, 10 PERMISSION_DENIED, other: unexpected.
int helloAsNobody(const std::string& path, const std::vector<gid_t>& groups) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(kNobody) != 0 ||
        ::setuid(kNobody) != 0) {
      ::_exit(2);
    }
    auto client = Client::connect(path);
    if (client.ok()) ::_exit(0);
    if (client.error().code == pb::PERMISSION_DENIED &&
        client.error().message.find("group") != std::string::npos) {
      ::_exit(10);
    }
    ::_exit(3);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(SocketTest, NonRootPeerOutsideTheGroupIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to setuid to nobody";
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  ListenOptions options;
  options.path = dir_ + "/perm.sock";
  options.group = "";
  auto listener = listenUnix(options);
  ASSERT_TRUE(listener.ok()) << listener.error().str();
  // Open the file mode so the kernel lets nobody connect: the peer check
  // alone must refuse it.
  ASSERT_EQ(::chmod(options.path.c_str(), 0666), 0);
  AccessPolicy policy;
  policy.ownerUid = 0;
  policy.group = 4242;
  policy.groupName = "berth";
  testing::FakeHandler handler;

  std::thread server([&] { serveOne(listener->fd.get(), policy, handler); });
  EXPECT_EQ(helloAsNobody(options.path, {}), 10);
  server.join();

  // The same user with the group among its supplementary groups gets in.
  std::thread server2([&] { serveOne(listener->fd.get(), policy, handler); });
  EXPECT_EQ(helloAsNobody(options.path, {4242}), 0);
  server2.join();
}

}  // namespace
}  // namespace berth::agent::api
