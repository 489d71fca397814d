// Integration tests of named volumes (root): create/ensure/list/remove,
// usage, first-use copy-up, export/import round trip, hostile tars and
// size-limited volumes. Each test works in its own data root under /tmp and
// removes it (and every mount in it) afterwards.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <thread>

#include "runtime/sys/fs.h"
#include "storage/disk/disk.h"
#include "storage/rootfs/remove_tree.h"
#include "storage/volume/volume.h"

namespace berth::storage::volume {
namespace {

std::atomic<int> counter{0};

void writeText(const std::string& path, const std::string& text, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::fchmod(fd, mode);
  ::close(fd);
}

std::string xattr(const std::string& path, const char* key) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), key, buf, sizeof(buf));
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

// Everything a backup must keep, per path: type, mode, owner, mtime, content
// or target or device number, xattrs.
std::map<std::string, std::string> snapshot(const std::string& root, bool withLinks = true) {
  std::map<std::string, std::string> out;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    std::string path = rel.empty() ? root : root + "/" + rel;
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                    std::to_string(st.st_gid) + " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec);
    if (withLinks && !S_ISDIR(st.st_mode)) d += " nlink=" + std::to_string(st.st_nlink);
    if (S_ISREG(st.st_mode)) d += " data=" + *sys::readFile(path);
    if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
      d += " target=" + std::string(buf, static_cast<size_t>(n));
    }
    if (S_ISCHR(st.st_mode)) d += " rdev=" + std::to_string(st.st_rdev);
    char names[4096];
    ssize_t n = ::llistxattr(path.c_str(), names, sizeof(names));
    std::map<std::string, std::string> xs;
    for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) {
      xs[names + i] = xattr(path, names + i);
    }
    for (auto& [k, v] : xs) d += " " + k + "=" + v;
    out[rel.empty() ? "." : rel] = d;
    if (S_ISDIR(st.st_mode)) {
      int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
      DIR* dir = ::fdopendir(fd);
      std::vector<std::string> children;
      while (auto* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") children.push_back(name);
      }
      ::closedir(dir);
      for (const auto& c : children) walk(rel.empty() ? c : rel + "/" + c);
    }
  };
  walk("");
  return out;
}

std::string readAllFd(int fd) {
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

class VolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    base_ = "/tmp/berth-volume-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    ASSERT_TRUE(sys::mkdirAll(base_ + "/root").ok());
    auto store = VolumeStore::open(base_ + "/root");
    ASSERT_TRUE(store.ok()) << store.error().str();
    store_.emplace(std::move(*store));
  }
  void TearDown() override {
    if (store_) {
      if (auto all = store_->list(); all.ok()) {
        for (const auto& v : *all) EXPECT_TRUE(store_->remove(v.name).ok()) << v.name;
      }
    }
    if (!base_.empty()) (void)rootfs::removeTree(base_);
  }
  std::string data(const std::string& name) { return store_->volumesDir() + "/" + name + "/data"; }

  std::string base_;
  std::optional<VolumeStore> store_;
};

TEST_F(VolumeTest, CreateEnsureListInspectRemove) {
  auto a = store_->create("alpha", {{{"project", "shop"}}, 0});
  ASSERT_TRUE(a.ok()) << a.error().str();
  EXPECT_EQ(a->dataPath, data("alpha"));
  EXPECT_TRUE(sys::pathExists(a->dataPath));
  auto again = store_->create("alpha");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), EEXIST);
  EXPECT_NE(again.error().what().find("volume alpha already exists"), std::string::npos);
  EXPECT_FALSE(store_->create("../evil").ok());
  EXPECT_FALSE(store_->create("..").ok());

  auto b = store_->ensure("beta");
  ASSERT_TRUE(b.ok()) << b.error().str();
  EXPECT_TRUE(b->second);
  auto b2 = store_->ensure("beta");
  ASSERT_TRUE(b2.ok());
  EXPECT_FALSE(b2->second);
  EXPECT_EQ(b2->first.createdUnix, b->first.createdUnix);

  auto all = store_->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alpha");
  EXPECT_EQ((*all)[0].labels.at("project"), "shop");
  EXPECT_EQ((*all)[1].name, "beta");

  // A second store on the same root (berthd restarted) sees the same volumes.
  auto reopened = VolumeStore::open(base_ + "/root");
  ASSERT_TRUE(reopened.ok());
  auto seen = reopened->inspect("alpha");
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->labels.at("project"), "shop");
  auto missing = reopened->inspect("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  writeText(data("alpha") + "/f", "x");
  ASSERT_TRUE(store_->remove("alpha").ok());
  EXPECT_FALSE(sys::pathExists(store_->volumesDir() + "/alpha"));
  auto gone = store_->remove("alpha");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ENOENT);
  ASSERT_TRUE(store_->remove("beta").ok());
  // Nothing but the lock file is left.
  DIR* dir = ::opendir(store_->volumesDir().c_str());
  std::vector<std::string> names;
  while (auto* e = ::readdir(dir)) names.push_back(e->d_name);
  ::closedir(dir);
  EXPECT_EQ(names.size(), 3u);  // ".", "..", ".lock"
}

TEST_F(VolumeTest, ConcurrentEnsureCreatesOnce) {
  std::atomic<int> created{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = store_->ensure("shared");
      if (!r.ok()) failed++;
      else if (r->second) created++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), 1);
}

TEST_F(VolumeTest, RemoveRefusesAMountInside) {
  ASSERT_TRUE(store_->create("m").ok());
  ASSERT_EQ(::mkdir((data("m") + "/mnt").c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", (data("m") + "/mnt").c_str(), "tmpfs", 0, nullptr), 0);
  auto r = store_->remove("m");
  EXPECT_FALSE(r.ok());
  if (!r.ok()) {
    EXPECT_EQ(r.error().code(), EBUSY) << r.error().str();
  }
  EXPECT_TRUE(sys::pathExists(data("m") + "/mnt"));
  ASSERT_EQ(::umount(( data("m") + "/mnt").c_str()), 0);
}

TEST_F(VolumeTest, UsageCountsAllocatedBytesOnce) {
  ASSERT_TRUE(store_->create("u").ok());
  auto empty = store_->usage("u");
  ASSERT_TRUE(empty.ok()) << empty.error().str();
  writeText(data("u") + "/big", std::string(1 << 20, 'x'));
  ASSERT_EQ(::link((data("u") + "/big").c_str(), (data("u") + "/big2").c_str()), 0);
  ASSERT_EQ(::symlink("/usr", (data("u") + "/usr").c_str()), 0);
  auto used = store_->usage("u");
  ASSERT_TRUE(used.ok());
  EXPECT_GE(*used - *empty, 1u << 20);
  EXPECT_LT(*used - *empty, (1u << 20) + (64u << 10));  // the hard link and /usr are not counted
  EXPECT_FALSE(store_->usage("nope").ok());
}

// A fake image: /var/lib/mysql owned by 999:999, mode 0750, with files of
// other owners, xattrs, a symlink, a fifo, a device and a nested dir.
void makeImage(const std::string& rootfs) {
  std::string dir = rootfs + "/var/lib/mysql";
  ASSERT_TRUE(sys::mkdirAll(dir + "/sub/deeper").ok());
  writeText(dir + "/ibdata", "innodb", 0640);
  ASSERT_EQ(::lchown((dir + "/ibdata").c_str(), 999, 998), 0);
  ASSERT_EQ(::lsetxattr((dir + "/ibdata").c_str(), "user.kind", "data", 4, 0), 0);
  ASSERT_EQ(::lsetxattr((dir + "/ibdata").c_str(), "trusted.t", "1", 1, 0), 0);
  writeText(dir + "/sub/deeper/x.cnf", "[mysqld]", 04755);
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/link").c_str()), 0);
  ASSERT_EQ(::lchown((dir + "/link").c_str(), 999, 999), 0);
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::mknod((dir + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::lsetxattr(dir.c_str(), "user.dir", "yes", 3, 0), 0);
  ASSERT_EQ(::chown(dir.c_str(), 999, 999), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
  struct timespec times[2] = {{1000, 5}, {1600000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir + "/sub").c_str(), times, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir + "/ibdata").c_str(), times, 0), 0);
}

TEST_F(VolumeTest, CopyUpKeepsOwnersModesXattrsAndTimes) {
  std::string rootfs = base_ + "/rootfs";
  makeImage(rootfs);
  ASSERT_TRUE(store_->create("db").ok());
  auto copied = store_->populateIfEmpty("db", rootfs, "/var/lib/mysql");
  ASSERT_TRUE(copied.ok()) << copied.error().str();
  EXPECT_TRUE(*copied);
  // Hard links are not in the image, so the trees compare fully.
  EXPECT_EQ(snapshot(data("db")), snapshot(rootfs + "/var/lib/mysql"));
  struct stat st {};
  ASSERT_EQ(::stat(data("db").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 999u);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(xattr(data("db") + "/ibdata", "trusted.t"), "1");
  EXPECT_EQ(::stat((data("db") + "/sub/deeper/x.cnf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);

  // Not again, and not after the user emptied it (Docker behaviour).
  auto second = store_->populateIfEmpty("db", rootfs, "/var/lib/mysql");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  ASSERT_TRUE(rootfs::removeTree(data("db") + "/sub").ok());
  for (const char* f : {"ibdata", "link", "fifo", "null"}) ::unlink((data("db") + "/" + f).c_str());
  auto third = store_->populateIfEmpty("db", rootfs, "/var/lib/mysql");
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(*third);
  EXPECT_FALSE(sys::pathExists(data("db") + "/ibdata"));
}

TEST_F(VolumeTest, CopyUpSkipsNonEmptyAndMissingPaths) {
  std::string rootfs = base_ + "/rootfs";
  makeImage(rootfs);
  ASSERT_TRUE(store_->create("full").ok());
  writeText(data("full") + "/mine", "user data");
  auto r = store_->populateIfEmpty("full", rootfs, "/var/lib/mysql");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_FALSE(sys::pathExists(data("full") + "/ibdata"));
  ASSERT_TRUE(store_->create("none").ok());
  auto m = store_->populateIfEmpty("none", rootfs, "/does/not/exist");
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_FALSE(*m);
}

TEST_F(VolumeTest, CopyUpCannotEscapeThroughSymlinks) {
  std::string rootfs = base_ + "/rootfs";
  std::string outside = base_ + "/host-secret";
  ASSERT_TRUE(sys::mkdirAll(outside).ok());
  writeText(outside + "/secret", "host");
  ASSERT_TRUE(sys::mkdirAll(rootfs + "/var/lib").ok());
  // Absolute and relative symlinks pointing at the host directory.
  ASSERT_EQ(::symlink(outside.c_str(), (rootfs + "/var/lib/abs").c_str()), 0);
  ASSERT_EQ(::symlink(("../../../../../../../.." + outside).c_str(), (rootfs + "/var/lib/rel").c_str()), 0);
  ASSERT_EQ(::symlink("/", (rootfs + "/var/lib/root").c_str()), 0);
  for (const char* path : {"/var/lib/abs", "/var/lib/rel", "/var/lib/root/../../" }) {
    std::string name = std::string("esc") + std::to_string(counter++);
    ASSERT_TRUE(store_->create(name).ok());
    auto r = store_->populateIfEmpty(name, rootfs, path);
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_FALSE(sys::pathExists(data(name) + "/secret")) << path;
  }
}

TEST_F(VolumeTest, ExportImportRoundTripIsByteIdentical) {
  std::string rootfs = base_ + "/rootfs";
  makeImage(rootfs);
  ASSERT_TRUE(store_->create("src").ok());
  ASSERT_TRUE(store_->populateIfEmpty("src", rootfs, "/var/lib/mysql").ok());
  ASSERT_EQ(::link((data("src") + "/ibdata").c_str(), (data("src") + "/sub/hard").c_str()), 0);
  writeText(data("src") + "/na\xc3\xafve \xe2\x9c\x93.txt", "utf8 name");
  ASSERT_EQ(::mkdir((data("src") + "/empty").c_str(), 0700), 0);
  ASSERT_EQ(::chown((data("src") + "/empty").c_str(), 5, 6), 0);
  auto before = snapshot(data("src"));

  int tar1 = ::memfd_create("tar1", MFD_CLOEXEC);
  auto exported = store_->exportTar("src", tar1);
  ASSERT_TRUE(exported.ok()) << exported.error().str();
  ::lseek(tar1, 0, SEEK_SET);
  auto imported = store_->importTar("dst", tar1);  // created by the import
  ASSERT_TRUE(imported.ok()) << imported.error().str();
  EXPECT_EQ(snapshot(data("dst")), before);

  int tar2 = ::memfd_create("tar2", MFD_CLOEXEC);
  ASSERT_TRUE(store_->exportTar("dst", tar2).ok());
  std::string bytes1 = readAllFd(tar1), bytes2 = readAllFd(tar2);
  EXPECT_GT(bytes1.size(), 0u);
  EXPECT_TRUE(bytes1 == bytes2) << "second export differs";

  // Not into a volume that has data.
  ::lseek(tar1, 0, SEEK_SET);
  auto again = store_->importTar("dst", tar1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ENOTEMPTY);
  ::close(tar1);
  ::close(tar2);
}

TEST_F(VolumeTest, ExportIsReadableByGnuTar) {
  ASSERT_TRUE(store_->create("t").ok());
  writeText(data("t") + "/hello", "hi");
  ASSERT_EQ(::lsetxattr((data("t") + "/hello").c_str(), "user.k", "v", 1, 0), 0);
  std::string tarPath = base_ + "/t.tar";
  int fd = ::open(tarPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_TRUE(store_->exportTar("t", fd).ok());
  ::close(fd);
  std::string out = base_ + "/listing";
  ASSERT_EQ(std::system(("tar --xattrs --xattrs-include='*' -tvf " + tarPath + " > " + out).c_str()), 0);
  std::string listing = *sys::readFile(out);
  EXPECT_NE(listing.find("./hello"), std::string::npos) << listing;
  EXPECT_NE(listing.find("0/0"), std::string::npos) << listing;
}

// A tar built entry by entry: {name, type, target (symlink or hardlink), content}.
struct TarEntry {
  std::string name;
  mode_t type;
  std::string link;
  std::string content;
  bool hardlink = false;
};

int makeTar(const std::vector<TarEntry>& entries) {
  int fd = ::memfd_create("hostile", MFD_CLOEXEC);
  struct archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  archive_write_open_fd(a, fd);
  for (const auto& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.name.c_str());
    archive_entry_set_filetype(e, t.type);
    archive_entry_set_perm(e, 0644);
    if (t.hardlink) archive_entry_set_hardlink(e, t.link.c_str());
    else if (t.type == AE_IFLNK) archive_entry_set_symlink(e, t.link.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(t.content.size()));
    archive_write_header(a, e);
    if (!t.content.empty()) archive_write_data(a, t.content.data(), t.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

TEST_F(VolumeTest, HostileTarsAreRefusedAndLeaveNothing) {
  std::string outside = base_ + "/outside";
  ASSERT_TRUE(sys::mkdirAll(outside).ok());
  std::string rel = "../../../../../../../../../../.." + outside;
  struct Case {
    std::vector<TarEntry> entries;
    std::string entryInError;
  };
  std::vector<Case> cases = {
      {{{"ok", AE_IFREG, "", "fine"}, {outside + "/escaped", AE_IFREG, "", "x"}}, outside + "/escaped"},
      {{{"ok", AE_IFREG, "", "fine"}, {"../escaped", AE_IFREG, "", "x"}}, "../escaped"},
      {{{"a/b", AE_IFREG, "", ""}, {"a/../../escaped", AE_IFREG, "", "x"}}, "a/../../escaped"},
      {{{"link", AE_IFLNK, outside, ""}, {"link/escaped", AE_IFREG, "", "x"}}, "link/escaped"},
      {{{"link", AE_IFLNK, rel, ""}, {"link/escaped", AE_IFREG, "", "x"}}, "link/escaped"},
      {{{"d/link", AE_IFLNK, "/", ""}, {"d/link/" + outside.substr(1) + "/escaped", AE_IFREG, "", "x"}},
       "d/link/"},
      {{{"f", AE_IFREG, "", "one"}, {"f", AE_IFLNK, outside + "/escaped", ""}}, "\"f\""},
      {{{"link", AE_IFLNK, outside + "/escaped", ""}, {"link", AE_IFREG, "", "x"}}, "\"link\""},
      {{{"hard", AE_IFREG, rel + "/escaped", "", true}}, "\"hard\""},
  };
  int n = 0;
  for (const auto& c : cases) {
    std::string name = "hostile" + std::to_string(n++);
    int fd = makeTar(c.entries);
    auto r = store_->importTar(name, fd);
    ::close(fd);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error().what().find(c.entryInError), std::string::npos) << r.error().str();
    EXPECT_FALSE(sys::pathExists(outside + "/escaped")) << name;
    // The volume this import created is gone again.
    auto seen = store_->inspect(name);
    ASSERT_TRUE(seen.ok());
    EXPECT_FALSE(seen->has_value()) << name;
  }
  // Into an existing empty volume: refused and still empty.
  ASSERT_TRUE(store_->create("keep").ok());
  int fd = makeTar(cases[3].entries);
  EXPECT_FALSE(store_->importTar("keep", fd).ok());
  ::close(fd);
  auto names = snapshot(data("keep"));
  EXPECT_EQ(names.size(), 1u);  // only "."
}

TEST_F(VolumeTest, SizeLimitedVolumeGivesEnospcAndIsRemounted) {
  CreateOptions options;
  options.sizeLimitBytes = 32ull << 20;
  auto v = store_->create("small", options);
  ASSERT_TRUE(v.ok()) << v.error().str();
  EXPECT_EQ(v->sizeLimitBytes, 32ull << 20);
  auto mounted = disk::isMountedFrom(store_->volumesDir() + "/small/disk.img", data("small"));
  ASSERT_TRUE(mounted.ok() && *mounted);
  auto names = snapshot(data("small"));
  EXPECT_EQ(names.size(), 1u) << "a new limited volume is empty (no lost+found)";

  // Gone after a "reboot": open() mounts it again.
  ASSERT_TRUE(disk::unmount(data("small")).ok());
  auto reopened = VolumeStore::open(base_ + "/root");
  ASSERT_TRUE(reopened.ok()) << reopened.error().str();
  mounted = disk::isMountedFrom(store_->volumesDir() + "/small/disk.img", data("small"));
  ASSERT_TRUE(mounted.ok() && *mounted);

  int fd = ::open((data("small") + "/fill").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  std::string chunk(1 << 20, 'z');
  int err = 0;
  for (int i = 0; i < 64 && err == 0; ++i) {
    if (::write(fd, chunk.data(), chunk.size()) < 0) err = errno;
  }
  if (err == 0 && ::fsync(fd) < 0) err = errno;
  ::close(fd);
  EXPECT_EQ(err, ENOSPC);
  auto used = store_->usage("small");
  ASSERT_TRUE(used.ok());
  EXPECT_LE(*used, 32ull << 20);

  ASSERT_TRUE(store_->remove("small").ok());
  EXPECT_FALSE(sys::pathExists(store_->volumesDir() + "/small"));
  std::string mountinfo = *sys::readFile("/proc/self/mountinfo");
  EXPECT_EQ(mountinfo.find(base_), std::string::npos) << "a mount was left behind";
}

}  // namespace
}  // namespace berth::storage::volume
