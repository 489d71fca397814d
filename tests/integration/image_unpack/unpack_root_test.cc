// Layer unpack as root: ownership, devices, file capabilities, and what a
// container sees when the unpacked layers are stacked with overlayfs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/unpack/unpack.h"
#include "tests/unit/image_unpack/layer_builder.h"
#include "tests/unit/image_unpack/scratch.h"

namespace berth::image::unpack {
namespace {

using test::LayerBuilder;

class UnpackRoot : public test::UnpackScratch {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown, mknod, trusted xattrs, mount)";
    UnpackScratch::SetUp();
  }
  struct stat lstatOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
  }
  sys::Result<UnpackResult> unpackInto(const std::string& blob, const std::string& dir) {
    EXPECT_TRUE(sys::mkdirAll(dir).ok());
    int fd = test::blobFd(blob);
    auto r = unpackLayer(fd, "application/vnd.oci.image.layer.v1.tar+gzip", dir);
    ::close(fd);
    return r;
  }
};

// VFS_CAP_REVISION_2 with CAP_NET_BIND_SERVICE (10) permitted+effective, as setcap writes it.
std::string netBindCapability() {
  std::string v(20, '\0');
  v[0] = 0x01, v[3] = 0x02;  // magic_etc = 0x02000001 (revision 2, effective), little endian
  v[5] = 0x04;               // permitted[0] bit 10: byte 1 of that word, bit 2
  return v;
}

TEST_F(UnpackRoot, OwnershipDevicesAndCapabilities) {
  std::string tar = LayerBuilder()
                        .dir("home/user", 0750, 1000, 1000)
                        .file("home/user/file", "mine", 0640, 1000, 1000)
                        .file("usr/bin/ping", "elf", 04755, 0, 0)
                        .file("usr/bin/sgid", "elf", 02755, 0, 42)
                        .file("usr/bin/captool", "elf", 0755)
                        .xattr("security.capability", netBindCapability())
                        .file("usr/bin/capowned", "elf", 0755, 1000, 1000)
                        .xattr("security.capability", netBindCapability())
                        .symlink("home/user/link", "file")
                        .owner(1000, 1001)
                        .node("dev/null", AE_IFCHR, 0666, 1, 3)
                        .node("dev/loop9", AE_IFBLK, 0660, 7, 9)
                        .owner(0, 6)
                        .node("dev/fifo", AE_IFIFO, 0620)
                        .owner(5, 5)
                        .tar();
  auto r = unpackInto(test::gzip(tar), layer());
  ASSERT_TRUE(r.ok()) << r.error().str();
  auto user = lstatOf(at("home/user"));
  EXPECT_EQ(user.st_uid, 1000u);
  EXPECT_EQ(user.st_mode & 07777, 0750u);
  auto file = lstatOf(at("home/user/file"));
  EXPECT_EQ(file.st_uid, 1000u);
  EXPECT_EQ(file.st_gid, 1000u);
  EXPECT_EQ(lstatOf(at("usr/bin/ping")).st_mode & 07777, 04755u) << "setuid survives chown";
  auto sgid = lstatOf(at("usr/bin/sgid"));
  EXPECT_EQ(sgid.st_mode & 07777, 02755u);
  EXPECT_EQ(sgid.st_gid, 42u);
  auto link = lstatOf(at("home/user/link"));
  EXPECT_EQ(link.st_uid, 1000u);
  EXPECT_EQ(link.st_gid, 1001u);
  auto null = lstatOf(at("dev/null"));
  EXPECT_TRUE(S_ISCHR(null.st_mode));
  EXPECT_EQ(null.st_rdev, ::makedev(1, 3));
  EXPECT_EQ(null.st_mode & 0777, 0666u) << "the umask does not apply";
  auto loop = lstatOf(at("dev/loop9"));
  EXPECT_TRUE(S_ISBLK(loop.st_mode));
  EXPECT_EQ(loop.st_rdev, ::makedev(7, 9));
  EXPECT_EQ(loop.st_gid, 6u);
  auto fifo = lstatOf(at("dev/fifo"));
  EXPECT_TRUE(S_ISFIFO(fifo.st_mode));
  EXPECT_EQ(fifo.st_uid, 5u);
  for (const char* f : {"usr/bin/captool", "usr/bin/capowned"}) {
    char buf[64];
    ssize_t n = ::getxattr(at(f).c_str(), "security.capability", buf, sizeof(buf));
    ASSERT_GT(n, 0) << f << ": capability lost (chown after setxattr clears it)";
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), netBindCapability()) << f;
  }
}

// Runs `check` in a forked child with its own mount namespace, where the
// layers are mounted as an overlay at `target`; returns the child's verdict.
int withOverlay(const std::string& lowerdir, const std::string& target,
                int (*check)(const std::string&)) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) < 0) _exit(100);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) _exit(101);
    std::string opts = "lowerdir=" + lowerdir;
    if (::mount("overlay", target.c_str(), "overlay", MS_RDONLY, opts.c_str()) < 0) _exit(102);
    _exit(check(target));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

int checkMerged(const std::string& m) {
  if (exists(m + "/etc/passwd")) return 1;      // whited out by the upper layer
  if (!exists(m + "/etc/hostname")) return 2;   // untouched lower file
  if (exists(m + "/var/cache/old")) return 3;   // opaque dir hides the lower content
  if (!exists(m + "/var/cache/new")) return 4;  // ... but shows the upper content
  if (exists(m + "/opt")) return 5;             // whole directory whited out
  if (!exists(m + "/var/keep")) return 6;       // siblings of the opaque dir stay
  if (test::readText(m + "/etc/hostname") != "base") return 7;
  if (test::readText(m + "/etc/motd") != "upper") return 8;  // upper file shadows lower
  return 0;
}

TEST_F(UnpackRoot, OverlayShowsWhatAContainerWouldSee) {
  std::string base = LayerBuilder()
                         .dir("etc")
                         .file("etc/passwd", "root:x:0:0")
                         .file("etc/hostname", "base")
                         .file("etc/motd", "lower")
                         .dir("var/cache")
                         .file("var/cache/old", "stale")
                         .file("var/keep", "kept")
                         .dir("opt/app")
                         .file("opt/app/bin", "x")
                         .tar();
  std::string upper = LayerBuilder()
                          .file("etc/.wh.passwd", "")
                          .file("etc/motd", "upper")
                          .dir("var/cache")
                          .file("var/cache/.wh..wh..opq", "")
                          .file("var/cache/new", "fresh")
                          .file(".wh.opt", "")
                          .tar();
  std::string baseDir = base_ + "/base", upperDir = base_ + "/upper", merged = base_ + "/merged";
  auto rb = unpackInto(test::gzip(base), baseDir);
  ASSERT_TRUE(rb.ok()) << rb.error().str();
  auto ru = unpackInto(test::zstd(upper), upperDir);
  ASSERT_TRUE(ru.ok()) << ru.error().str();
  ASSERT_TRUE(sys::mkdirAll(merged).ok());
  EXPECT_EQ(withOverlay(upperDir + ":" + baseDir, merged, checkMerged), 0);
}

TEST_F(UnpackRoot, EnsureLayerPathsStackAsLowerdirs) {
  // The directory names ensureLayer picks contain no ':' and work in lowerdir=.
  std::string root = base_ + "/layers";
  std::string a = test::gzip(LayerBuilder().file("a", "1").file("gone", "x").tar());
  std::string b = test::gzip(LayerBuilder().file("b", "2").file(".wh.gone", "").tar());
  int fa = test::blobFd(a), fb = test::blobFd(b);
  auto pa = ensureLayer(root, "sha256:" + std::string(64, '1'), fa, "");
  auto pb = ensureLayer(root, "sha256:" + std::string(64, '2'), fb, "");
  ::close(fa);
  ::close(fb);
  ASSERT_TRUE(pa.ok() && pb.ok());
  ASSERT_TRUE(sys::mkdirAll(base_ + "/m").ok());
  int verdict = withOverlay(*pb + ":" + *pa, base_ + "/m", [](const std::string& m) {
    return (exists(m + "/a") && exists(m + "/b") && !exists(m + "/gone")) ? 0 : 1;
  });
  EXPECT_EQ(verdict, 0);
}

}  // namespace
}  // namespace berth::image::unpack
