// Unit tests for user resolution: Docker's --user forms against passwd and
// group files, and reading those files inside a fake rootfs where the image
// is hostile (symlinks out of the root, a FIFO, a huge file).
#include "agent/engine/container_user.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "broken:x:notanumber:1::/:/bin/false\n"
    "app:x:1000:1000:App,,,:/home/app:/bin/sh\r\n"
    "nohome:x:1001:1001\n";
const std::string kGroup =
    "root:x:0:root\n"
    "daemon:x:1:\n"
    "wheel:x:10:root,app\n"
    "app:x:1000:\n"
    "docker:x:999:app,other\n"
    "staff:x:50:\n";

ResolvedUser resolveOrFail(std::string_view spec) {
  auto user = resolveUser(spec, kPasswd, kGroup);
  EXPECT_TRUE(user.ok()) << spec << ": " << user.error().str();
  return user.ok() ? *user : ResolvedUser{};
}

TEST(ParseAccounts, SkipsCommentsBlankAndBrokenLines) {
  auto users = parsePasswd(kPasswd);
  ASSERT_EQ(users.size(), 4u);
  EXPECT_EQ(users[2].name, "app");
  EXPECT_EQ(users[2].home, "/home/app");  // the \r of a CRLF file is not part of the shell
  EXPECT_EQ(users[3].home, "");
  auto groups = parseGroup(kGroup);
  ASSERT_EQ(groups.size(), 6u);
  EXPECT_EQ(groups[2].members, (std::vector<std::string>{"root", "app"}));
  EXPECT_TRUE(groups[1].members.empty());
}

TEST(ResolveUser, DockerUserForms) {
  struct Case {
    const char* spec;
    uint32_t uid, gid;
    std::vector<uint32_t> gids;
    const char* home;
  };
  const Case cases[] = {
      {"", 0, 0, {0, 10}, "/root"},  // root with its supplementary groups
      {"root", 0, 0, {0, 10}, "/root"},
      {"app", 1000, 1000, {1000, 10, 999}, "/home/app"},
      {"1000", 1000, 1000, {1000, 10, 999}, "/home/app"},  // numeric, found in passwd
      {"app:staff", 1000, 50, {50, 10, 999}, "/home/app"},
      {"app:0", 1000, 0, {0, 10, 999}, "/home/app"},
      {"4242", 4242, 0, {0}, "/"},  // numeric, no entry: gid 0, home /
      {"4242:4343", 4242, 4343, {4343}, "/"},
      {"daemon:docker", 1, 999, {999}, "/usr/sbin"},
      {"nohome", 1001, 1001, {1001}, "/"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    ResolvedUser user = resolveOrFail(c.spec);
    EXPECT_EQ(user.uid, c.uid);
    EXPECT_EQ(user.gid, c.gid);
    EXPECT_EQ(user.additionalGids, c.gids);
    EXPECT_EQ(user.home, c.home);
  }
}

TEST(ResolveUser, UnknownNamesAreErrorsThatNameThem) {
  auto user = resolveUser("ghost", kPasswd, kGroup);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().what(), "unable to find user ghost: no matching entries in passwd file");
  auto group = resolveUser("app:ghosts", kPasswd, kGroup);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().what(), "unable to find group ghosts: no matching entries in group file");
  auto noFile = resolveUser("app", std::nullopt, std::nullopt);
  ASSERT_FALSE(noFile.ok());
  EXPECT_EQ(noFile.error().what(), "unable to find user app: the image has no /etc/passwd");
  EXPECT_FALSE(resolveUser("app:", kPasswd, kGroup).ok());
  // Numbers need no files at all.
  auto numeric = resolveUser("12:34", std::nullopt, std::nullopt);
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->uid, 12u);
  EXPECT_EQ(numeric->gid, 34u);
}

// A temporary rootfs with an /etc directory, removed at the end of the test.
class FakeRootfs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-user-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(sys::mkdirAll(root_ + "/etc").ok());
  }
  void TearDown() override { (void)sys::removeAll(root_); }
  void write(const std::string& rel, const std::string& data) {
    auto r = sys::writeFileReplace(root_ + rel, data);
    ASSERT_TRUE(r.ok()) << r.error().str();
  }
  void symlink(const std::string& target, const std::string& rel) {
    ASSERT_EQ(::symlink(target.c_str(), (root_ + rel).c_str()), 0);
  }
  std::string root_;
};

TEST_F(FakeRootfs, ReadsTheImagesFiles) {
  write("/etc/passwd", kPasswd);
  write("/etc/group", kGroup);
  auto user = resolveUserInRootfs("app", root_);
  ASSERT_TRUE(user.ok()) << user.error().str();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->additionalGids, (std::vector<uint32_t>{1000, 10, 999}));
}

TEST_F(FakeRootfs, SymlinkToHostShadowIsResolvedInsideTheRoot) {
  // The host's /etc/shadow and /etc/passwd must never be read: with the link
  // resolved inside the root, a missing in-root target means "no passwd file".
  symlink("/etc/shadow", "/etc/passwd");
  // Relative climbs stop at the root: this is <root>/etc/passwd, hence <root>/etc/shadow.
  symlink("../../../../../../etc/passwd", "/etc/group");
  auto user = resolveUserInRootfs("root", root_);
  ASSERT_FALSE(user.ok()) << "read a passwd file through a link out of the root";
  EXPECT_NE(user.error().what().find("no /etc/passwd"), std::string::npos) << user.error().str();

  // With a file at the in-root target, that file is what is read.
  write("/etc/shadow", "inroot:x:777:778::/in/root:/bin/sh\n");
  auto inRoot = resolveUserInRootfs("inroot", root_);
  ASSERT_TRUE(inRoot.ok()) << inRoot.error().str();
  EXPECT_EQ(inRoot->uid, 777u);
  EXPECT_EQ(inRoot->home, "/in/root");
  // And nothing of the host's passwd leaks in: the host has a root entry, this root has none.
  EXPECT_FALSE(resolveUserInRootfs("root", root_).ok());
  EXPECT_FALSE(resolveUserInRootfs("daemon", root_).ok());
}

TEST_F(FakeRootfs, AbsoluteSymlinkedEtcStaysInside) {
  ASSERT_TRUE(sys::removeAll(root_ + "/etc").ok());
  ASSERT_TRUE(sys::mkdirAll(root_ + "/real").ok());
  write("/real/passwd", "viaetc:x:55:55::/:/bin/sh\n");
  symlink("/real", "/etc");  // absolute: means <root>/real, not the host's /real
  auto user = resolveUserInRootfs("viaetc", root_);
  ASSERT_TRUE(user.ok()) << user.error().str();
  EXPECT_EQ(user->uid, 55u);
}

TEST_F(FakeRootfs, FifoAndOversizedFilesAreRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ + "/etc/passwd").c_str(), 0644), 0);
  auto fifo = resolveUserInRootfs("app", root_);
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().what().find("not a regular file"), std::string::npos)
      << fifo.error().str();

  ASSERT_EQ(::unlink((root_ + "/etc/passwd").c_str()), 0);
  int fd = ::open((root_ + "/etc/passwd").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 64 << 20), 0);  // sparse: costs no disk
  ::close(fd);
  auto huge = resolveUserInRootfs("app", root_);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().what().find("larger than"), std::string::npos) << huge.error().str();
}

TEST_F(FakeRootfs, NumericUserWorksWithoutAccountFiles) {
  auto user = resolveUserInRootfs("1234:5678", root_);
  ASSERT_TRUE(user.ok()) << user.error().str();
  EXPECT_EQ(user->uid, 1234u);
  EXPECT_EQ(user->gid, 5678u);
  EXPECT_FALSE(resolveUserInRootfs("x", root_ + "/does-not-exist").ok());
}

}  // namespace
}  // namespace berth::agent::engine
