// Container root filesystems as root, on the real kernel: the merged view of
// layers with a whiteout and an opaque directory, writes landing in the
// upper dir only, 128 layers through both mount APIs, re-attaching, scratch
// images, and removal that leaves nothing behind. Also measures
// prepare+unmount, which is on the container start path.
//
// The whole binary runs in a private mount namespace (set up before any
// test), so even a crash cannot leak a mount to the host; every test still
// unmounts what it made and checks mountinfo for leftovers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "runtime/sys/fs.h"
#include "storage/rootfs/mountinfo.h"
#include "storage/rootfs/rootfs.h"

namespace berth::storage::rootfs {
namespace {

namespace fs = std::filesystem;

class PrivateMountNamespace : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) return;
    // Single-threaded here (before the first test), as unshare(CLONE_NEWNS) requires.
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "unshare mount namespace";
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  }
};
[[maybe_unused]] auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PrivateMountNamespace);

std::vector<std::string> mountsUnder(const std::string& base) {
  std::vector<std::string> found;
  auto text = sys::readFile("/proc/self/mountinfo");
  if (!text) return found;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    auto entry = parseMountInfoLine(std::string_view(*text).substr(pos, end - pos));
    if (entry && entry->mountPoint.rfind(base + "/", 0) == 0) found.push_back(entry->mountPoint);
    pos = end + 1;
  }
  return found;
}

// Everything observable about a tree, to prove lower layers are untouched.
using Snapshot = std::map<std::string, std::string>;
Snapshot snapshot(const std::string& dir) {
  Snapshot out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    char opaque[8] = {};
    ::lgetxattr(e.path().c_str(), "trusted.overlay.opaque", opaque, sizeof(opaque) - 1);
    std::string content;
    if (S_ISREG(st.st_mode)) content = sys::readFile(e.path()).value();
    out[e.path()] = std::to_string(st.st_mode) + "/" + std::to_string(st.st_ino) + "/" +
                    std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) +
                    "/" + std::to_string(st.st_rdev) + "/" + opaque + "/" + content;
  }
  return out;
}

class RootfsRoot : public ::testing::TestWithParam<MountApi> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount, mknod, trusted xattrs)";
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    base_ = "/tmp/berth-rootfs-it-" + std::to_string(::getpid()) + "-" + name;
    container_ = base_ + "/containers/c1";
    ASSERT_TRUE(sys::mkdirAll(base_ + "/layers").ok());
  }
  void TearDown() override {
    if (base_.empty()) return;
    auto left = mountsUnder(base_);
    for (auto it = left.rbegin(); it != left.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    EXPECT_TRUE(left.empty()) << left.size() << " mounts left under " << base_ << ", first "
                              << left.front();
    EXPECT_TRUE(sys::removeAll(base_).ok());
    EXPECT_TRUE(mountsUnder(base_).empty());
  }

  Options options() const {
    Options o;
    o.api = GetParam();
    return o;
  }
  // <base>/layers/<64 hex>, as image/unpack's ensureLayer lays them out.
  std::string layer(int i) {
    char hex[65];
    std::snprintf(hex, sizeof(hex), "%064x", 0xbe000 + i);
    std::string dir = base_ + "/layers/" + hex;
    EXPECT_TRUE(sys::mkdirAll(dir).ok());
    return dir;
  }
  void write(const std::string& path, const std::string& data) {
    ASSERT_TRUE(sys::mkdirAll(fs::path(path).parent_path()).ok());
    ASSERT_TRUE(sys::writeFileReplace(path, data).ok()) << path;
  }
  std::string read(const std::string& path) {
    auto r = sys::readFile(path);
    return r ? *r : "<" + r.error().str() + ">";
  }
  static bool isWhiteout(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
  }

  std::string base_;
  std::string container_;
};

// bottom: a, gone, dir/old, dir/sub/deep   middle: dir/ opaque with dir/new, b
// top: gone as a whiteout (0:0), a overwritten; root mode 0750.
TEST_P(RootfsRoot, ThreeLayersWithWhiteoutAndOpaqueDir) {
  std::string bottom = layer(0), middle = layer(1), top = layer(2);
  write(bottom + "/a", "bottom-a");
  write(bottom + "/gone", "should be hidden");
  write(bottom + "/dir/old", "hidden by opaque");
  write(bottom + "/dir/sub/deep", "hidden too");
  write(middle + "/dir/new", "middle-new");
  write(middle + "/b", "middle-b");
  ASSERT_EQ(::setxattr((middle + "/dir").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  write(top + "/a", "top-a");
  ASSERT_EQ(::mknod((top + "/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::chmod(top.c_str(), 0750), 0);
  Snapshot before = snapshot(base_ + "/layers");

  auto rootfs = prepare(container_, {bottom, middle, top}, options());
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  EXPECT_EQ(rootfs->legacyMount, GetParam() == MountApi::kLegacy);
  EXPECT_FALSE(rootfs->reattached);
  const std::string& r = rootfs->path;
  EXPECT_EQ(r, container_ + "/rootfs");
  EXPECT_TRUE(*isMounted(container_));

  EXPECT_EQ(read(r + "/a"), "top-a");
  EXPECT_EQ(read(r + "/b"), "middle-b");
  EXPECT_FALSE(sys::pathExists(r + "/gone")) << "whiteout did not hide the file";
  EXPECT_EQ(read(r + "/dir/new"), "middle-new");
  EXPECT_FALSE(sys::pathExists(r + "/dir/old")) << "opaque dir did not hide the lower entry";
  EXPECT_FALSE(sys::pathExists(r + "/dir/sub"));
  struct stat st {};
  ASSERT_EQ(::stat(r.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u) << "rootfs root should have the image root's mode";

  // Writes: a new file, a modified lower file, a deleted lower file.
  write(r + "/c", "new");
  write(r + "/b", "changed");
  ASSERT_EQ(::unlink((r + "/a").c_str()), 0);
  EXPECT_FALSE(sys::pathExists(r + "/a"));
  EXPECT_EQ(read(rootfs->upperDir + "/c"), "new");
  EXPECT_EQ(read(rootfs->upperDir + "/b"), "changed");
  EXPECT_TRUE(isWhiteout(rootfs->upperDir + "/a"));
  EXPECT_EQ(snapshot(base_ + "/layers"), before) << "a lower layer was modified";

  ASSERT_TRUE(unmount(container_).ok());
  EXPECT_FALSE(*isMounted(container_));
  EXPECT_TRUE(mountsUnder(base_).empty());
  EXPECT_EQ(snapshot(base_ + "/layers"), before);
}

TEST_P(RootfsRoot, ManyLayers) {
  std::vector<std::string> layers;
  for (int i = 0; i < 128; ++i) {
    layers.push_back(layer(i));
    write(layers.back() + "/layer-" + std::to_string(i), std::to_string(i));
    write(layers.back() + "/f", "from " + std::to_string(i));
  }
  auto rootfs = prepare(container_, layers, options());
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  EXPECT_EQ(read(rootfs->path + "/f"), "from 127");
  for (int i = 0; i < 128; ++i) {
    EXPECT_EQ(read(rootfs->path + "/layer-" + std::to_string(i)), std::to_string(i));
  }
  // Re-attaching compares the layer list read back from mountinfo (by path
  // for fsconfig; the mount(2) fallback shows fd aliases and is accepted).
  auto again = prepare(container_, layers, options());
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_TRUE(again->reattached);
  ASSERT_TRUE(remove(container_).ok());
  EXPECT_FALSE(sys::pathExists(container_));
}

TEST_P(RootfsRoot, ScratchImageHasAnEmptyWritableRoot) {
  auto rootfs = prepare(container_, {}, options());
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  EXPECT_TRUE(fs::is_empty(rootfs->path));
  write(rootfs->path + "/hello", "world");
  EXPECT_EQ(read(rootfs->upperDir + "/hello"), "world");
  EXPECT_TRUE(fs::is_empty(container_ + "/empty-lower"));
  ASSERT_TRUE(remove(container_).ok());
  EXPECT_FALSE(sys::pathExists(container_));
}

INSTANTIATE_TEST_SUITE_P(Api, RootfsRoot, ::testing::Values(MountApi::kFsconfig, MountApi::kLegacy),
                         [](const auto& info) {
                           return info.param == MountApi::kFsconfig ? "Fsconfig" : "Legacy";
                         });

class RootfsRootAuto : public RootfsRoot {};
INSTANTIATE_TEST_SUITE_P(Api, RootfsRootAuto, ::testing::Values(MountApi::kAuto),
                         [](const auto&) { return "Auto"; });

TEST_P(RootfsRootAuto, PrepareIsIdempotentAndReattaches) {
  std::string l0 = layer(0), l1 = layer(1);
  write(l0 + "/x", "x");
  auto first = prepare(container_, {l0, l1}, options());
  ASSERT_TRUE(first.ok()) << first.error().str();
  write(first->path + "/state", "kept");
  ASSERT_EQ(::chmod(first->path.c_str(), 0700), 0);

  auto second = prepare(container_, {l0, l1}, options());
  ASSERT_TRUE(second.ok()) << second.error().str();
  EXPECT_TRUE(second->reattached);
  EXPECT_EQ(mountsUnder(base_).size(), 1u) << "prepare stacked a second mount";

  auto otherLayers = prepare(container_, {l1, l0}, options());
  ASSERT_FALSE(otherLayers.ok());
  EXPECT_EQ(otherLayers.error().code(), EBUSY) << otherLayers.error().str();

  // After an unmount (a host reboot), prepare mounts again over the same
  // upper: the container's files and its chmod of "/" survive.
  ASSERT_TRUE(unmount(container_).ok());
  ASSERT_TRUE(unmount(container_).ok()) << "unmounting twice must be fine";
  auto third = prepare(container_, {l0, l1}, options());
  ASSERT_TRUE(third.ok()) << third.error().str();
  EXPECT_FALSE(third->reattached);
  EXPECT_EQ(read(third->path + "/state"), "kept");
  EXPECT_EQ(read(third->path + "/x"), "x");
  struct stat st {};
  ASSERT_EQ(::stat(third->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_TRUE(remove(container_).ok());
}

TEST_P(RootfsRootAuto, SomethingElseMountedOnRootfsIsRefused) {
  ASSERT_TRUE(sys::mkdirAll(container_ + "/rootfs").ok());
  ASSERT_EQ(::mount("tmpfs", (container_ + "/rootfs").c_str(), "tmpfs", 0, "size=1m"), 0);
  auto rootfs = prepare(container_, {layer(0)}, options());
  ASSERT_FALSE(rootfs.ok());
  EXPECT_EQ(rootfs.error().code(), EBUSY);
  EXPECT_NE(rootfs.error().str().find("tmpfs"), std::string::npos) << rootfs.error().str();
  ASSERT_TRUE(unmount(container_).ok());
}

TEST_P(RootfsRootAuto, SymlinkedRootfsDirIsRefused) {
  ASSERT_TRUE(sys::mkdirAll(container_).ok());
  ASSERT_TRUE(sys::mkdirAll(base_ + "/elsewhere").ok());
  ASSERT_EQ(::symlink((base_ + "/elsewhere").c_str(), (container_ + "/rootfs").c_str()), 0);
  auto rootfs = prepare(container_, {layer(0)}, options());
  ASSERT_FALSE(rootfs.ok());
  EXPECT_EQ(rootfs.error().code(), ENOTDIR) << rootfs.error().str();
  EXPECT_TRUE(mountsUnder(base_).empty());
}

TEST_P(RootfsRootAuto, MissingLayerIsNamedAndNothingIsLeft) {
  std::string missing = base_ + "/layers/not-unpacked";
  auto rootfs = prepare(container_, {layer(0), missing, layer(2)}, options());
  ASSERT_FALSE(rootfs.ok());
  EXPECT_EQ(rootfs.error().code(), ENOENT);
  EXPECT_NE(rootfs.error().str().find(missing), std::string::npos) << rootfs.error().str();
  EXPECT_FALSE(sys::pathExists(container_)) << "failed prepare left its directories";
}

TEST_P(RootfsRootAuto, RemoveLeavesNothingEvenWhenBusy) {
  std::string l0 = layer(0);
  write(l0 + "/etc/passwd", "root:x:0:0");
  Snapshot before = snapshot(base_ + "/layers");
  auto rootfs = prepare(container_, {l0}, options());
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  write(rootfs->path + "/etc/written", "data");
  ASSERT_EQ(::symlink(l0.c_str(), (rootfs->path + "/to-layer").c_str()), 0);
  // A process still using the rootfs: the unmount has to detach lazily.
  int busy = ::open((rootfs->path + "/etc/passwd").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(busy, 0);

  auto removed = remove(container_);
  ::close(busy);
  ASSERT_TRUE(removed.ok()) << removed.error().str();
  EXPECT_FALSE(sys::pathExists(container_));
  EXPECT_TRUE(mountsUnder(base_).empty());
  EXPECT_EQ(snapshot(base_ + "/layers"), before) << "remove touched a layer";
  EXPECT_TRUE(remove(container_).ok()) << "removing twice must be fine";
}

TEST_P(RootfsRootAuto, RemoveNeverDeletesThroughAnotherMount) {
  auto rootfs = prepare(container_, {layer(0)}, options());
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  std::string volume = base_ + "/volume";
  write(volume + "/data", "precious");
  ASSERT_TRUE(sys::mkdirAll(container_ + "/volume-mount").ok());
  ASSERT_EQ(
      ::mount(volume.c_str(), (container_ + "/volume-mount").c_str(), nullptr, MS_BIND, nullptr),
      0);
  auto removed = remove(container_);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code(), EBUSY) << removed.error().str();
  EXPECT_EQ(read(volume + "/data"), "precious");
  ASSERT_EQ(::umount2((container_ + "/volume-mount").c_str(), 0), 0);
  ASSERT_TRUE(remove(container_).ok());
  EXPECT_EQ(read(volume + "/data"), "precious");
}

// Container start path: prepare and unmount timed separately (µs), median
// and 90th percentile over 100 rounds.
TEST_P(RootfsRootAuto, PrepareUnmountTiming) {
  std::vector<std::string> layers;
  for (int i = 0; i < 16; ++i) {
    layers.push_back(layer(i));
    write(layers.back() + "/f" + std::to_string(i), "x");
  }
  using Clock = std::chrono::steady_clock;
  auto micros = [](Clock::time_point a, Clock::time_point b) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(b - a).count());
  };
  auto percentile = [](std::vector<long> v, size_t pct) {
    std::sort(v.begin(), v.end());
    return v[v.size() * pct / 100];
  };
  for (MountApi api : {MountApi::kFsconfig, MountApi::kLegacy}) {
    for (size_t count : {size_t{1}, size_t{16}}) {
      std::vector<std::string> lowers(layers.begin(), layers.begin() + static_cast<long>(count));
      Options o;
      o.api = api;
      std::vector<long> prepareUs, unmountUs, totalUs;
      for (int round = 0; round < 100; ++round) {
        auto t0 = Clock::now();
        auto rootfs = prepare(container_, lowers, o);
        auto t1 = Clock::now();
        ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
        ASSERT_TRUE(unmount(container_).ok());
        auto t2 = Clock::now();
        prepareUs.push_back(micros(t0, t1));
        unmountUs.push_back(micros(t1, t2));
        totalUs.push_back(micros(t0, t2));
      }
      std::string name = std::string(api == MountApi::kFsconfig ? "fsconfig" : "mount2") + "_" +
                         std::to_string(count) + "_layers";
      std::printf(
          "[ timing ] %-18s prepare p50 %5ld p90 %5ld | unmount p50 %5ld p90 %5ld | "
          "total p50 %5ld p90 %5ld us\n",
          name.c_str(), percentile(prepareUs, 50), percentile(prepareUs, 90),
          percentile(unmountUs, 50), percentile(unmountUs, 90), percentile(totalUs, 50),
          percentile(totalUs, 90));
      RecordProperty(name + "_total_p50_us", static_cast<int>(percentile(totalUs, 50)));
      EXPECT_LT(percentile(totalUs, 50), 50000) << name;
    }
  }
  ASSERT_TRUE(remove(container_).ok());
}

}  // namespace
}  // namespace berth::storage::rootfs
