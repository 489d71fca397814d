// The worker threads that create small files (UnpackOptions::writerThreads):
// the tree must be exactly the one of a one-thread unpack, whatever the
// order the workers finish in, for layers that replace, link, white out and
// write through names the workers may still be creating; a worker's failure
// fails the unpack; hostile layers are refused just the same.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include "image/unpack/tree_writer.h"
#include "image/unpack/unpack.h"
#include "tests/unit/image_unpack/layer_builder.h"
#include "tests/unit/image_unpack/scratch.h"

namespace berth::image::unpack {
namespace {

using test::LayerBuilder;

constexpr int kRepeats = 8;

// Everything a layer can set on a path, plus the content, as one string per
// path; hard links show as a shared inode group.
std::map<std::string, std::string> describeTree(const std::string& root) {
  std::map<std::string, std::string> out;
  std::map<ino_t, std::string> firstPathOfInode;
  std::vector<std::string> todo{""};
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    DIR* dir = ::opendir((root + "/" + rel).c_str());
    if (dir == nullptr) continue;
    while (struct dirent* d = ::readdir(dir)) {
      std::string name = d->d_name;
      if (name == "." || name == "..") continue;
      std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      if (::lstat((root + "/" + path).c_str(), &st) != 0) continue;
      std::string desc = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                         std::to_string(st.st_gid) + " size " + std::to_string(st.st_size);
      if (!S_ISDIR(st.st_mode)) desc += " mtime " + std::to_string(st.st_mtime);
      if (S_ISREG(st.st_mode)) {
        desc += " data " + test::readText(root + "/" + path);
        auto [it, first] = firstPathOfInode.emplace(st.st_ino, path);
        if (!first) desc += " linked to " + it->second;
      }
      if (S_ISLNK(st.st_mode)) {
        char target[512] = {};
        ssize_t n = ::readlink((root + "/" + path).c_str(), target, sizeof(target) - 1);
        desc += " -> " + std::string(target, n > 0 ? static_cast<size_t>(n) : 0);
      }
      if (S_ISDIR(st.st_mode)) {
        // Parents the archive left out are made when needed, at that time.
        if (path.rfind("implicit", 0) != 0) desc += " mtime " + std::to_string(st.st_mtime);
        todo.push_back(path);
      }
      out[path] = desc;
    }
    ::closedir(dir);
  }
  return out;
}

// Many small files in many directories, with the awkward cases spread
// among them so that they meet files still queued for the workers.
std::string busyLayer() {
  LayerBuilder b;
  for (int d = 0; d < 12; ++d) {
    std::string dir = "d" + std::to_string(d);
    b.dir(dir, d % 3 == 0 ? 0555 : 0755).mtime(1600000000 + d);
    for (int f = 0; f < 40; ++f) {
      std::string name = dir + "/f" + std::to_string(f);
      b.file(name, name + std::string(static_cast<size_t>(f * 37), 'x'), f % 5 == 0 ? 04755 : 0640)
          .mtime(1500000000 + f);
    }
    b.file(dir + "/f3", "replaced while perhaps still queued");
    b.hardlink(dir + "/link", dir + "/f7");
    b.symlink(dir + "/f9", "now a symlink");
    b.file(dir + "/big", std::string(TreeWriter::kMaxPooledFile + 100, 'b'));
    b.file(dir + "/big", "small over big");
    b.file(dir + "/f11", std::string(TreeWriter::kMaxPooledFile + 7, 'B'));
    b.file(dir + "/.wh.f12", "");  // same-layer entry wins over its whiteout
    b.dir(dir + "/f13", 0700);     // a file replaced by a directory
    b.file(dir + "/f13/inner", "inside");
    b.file("implicit/" + dir + "/deep/file", "parents made on the way");
  }
  b.dir("gone").file("gone/a", "a").file("gone/b", "b").file("gone", "a directory became a file");
  return b.tar();
}

class Parallel : public test::UnpackScratch {
 protected:
  sys::Result<UnpackResult> unpackInto(const std::string& dest, const std::string& blob,
                                       size_t threads) {
    EXPECT_TRUE(sys::mkdirAll(dest).ok());
    UnpackOptions o;
    o.writerThreads = threads;
    int fd = test::blobFd(blob);
    auto r = unpackLayer(fd, "", dest, o);
    ::close(fd);
    return r;
  }
  std::string dest(int i) const { return base_ + "/dest" + std::to_string(i); }
};

TEST_F(Parallel, SameTreeAsOneThread) {
  const std::string tar = busyLayer();
  auto reference = unpackInto(dest(0), tar, 0);
  ASSERT_TRUE(reference.ok()) << reference.error().str();
  auto expected = describeTree(dest(0));
  ASSERT_GT(expected.size(), 500u);
  EXPECT_NE(expected["d0/f3"].find("replaced while perhaps still queued"), std::string::npos);
  EXPECT_NE(expected["d1/big"].find("small over big"), std::string::npos);
  EXPECT_NE(expected["d2/link"].find("linked to"), std::string::npos);
  EXPECT_NE(expected["gone"].find("a directory became a file"), std::string::npos);
  for (int i = 1; i <= kRepeats; ++i) {
    size_t threads = 1 + static_cast<size_t>(i % 4);
    auto r = unpackInto(dest(i), tar, threads);
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ(r->diffId, reference->diffId);
    EXPECT_EQ(r->entries, reference->entries);
    auto got = describeTree(dest(i));
    ASSERT_EQ(got.size(), expected.size()) << "threads " << threads;
    for (const auto& [path, desc] : expected) {
      EXPECT_EQ(got[path], desc) << path << " with " << threads << " threads";
    }
    ASSERT_TRUE(sys::removeAll(dest(i)).ok());
  }
}

// A file used as a directory right after it was queued: refused with the
// same reason as in a one-thread unpack, every time.
TEST_F(Parallel, QueuedFileAsParentIsRefusedInOrder) {
  LayerBuilder b;
  for (int f = 0; f < 200; ++f) b.file("f" + std::to_string(f), "x");
  const std::string tar = b.file("victim", "plain file").file("victim/child", "x").tar();
  for (int i = 0; i < kRepeats; ++i) {
    auto r = unpackInto(dest(i), tar, 3);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().str().find("parent \"victim\" is a symlink or not a directory"),
              std::string::npos)
        << r.error().str();
    ASSERT_TRUE(sys::removeAll(dest(i)).ok());
  }
}

TEST_F(Parallel, DirectoryOfQueuedFilesSwappedForSymlinkIsRefused) {
  LayerBuilder b;
  b.dir("d");
  for (int f = 0; f < 300; ++f) b.file("d/f" + std::to_string(f), "queued");
  const std::string tar = b.symlink("d", outside()).file("d/passwd", "x").tar();
  for (int i = 0; i < kRepeats; ++i) {
    UnpackOptions o;
    o.writerThreads = 4;
    auto r = unpack(tar, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().str().find("symlink"), std::string::npos) << r.error().str();
    expectOutsideUntouched();
    ASSERT_TRUE(sys::removeAll(layer()).ok());
    ASSERT_TRUE(sys::mkdirAll(layer()).ok());
  }
}

TEST_F(Parallel, HardLinkToAFileJustQueued) {
  LayerBuilder b;
  for (int f = 0; f < 100; ++f) {
    b.file("f" + std::to_string(f), "content " + std::to_string(f));
    b.hardlink("l" + std::to_string(f), "f" + std::to_string(f));
  }
  const std::string tar = b.tar();
  auto r = unpackInto(dest(0), tar, 4);
  ASSERT_TRUE(r.ok()) << r.error().str();
  for (int f = 0; f < 100; ++f) {
    struct stat a {}, l {};
    ASSERT_EQ(::lstat((dest(0) + "/f" + std::to_string(f)).c_str(), &a), 0);
    ASSERT_EQ(::lstat((dest(0) + "/l" + std::to_string(f)).c_str(), &l), 0);
    EXPECT_EQ(a.st_ino, l.st_ino);
    EXPECT_EQ(a.st_nlink, 2u);
  }
}

// A failure on a worker (here an xattr no filesystem accepts) fails the
// whole unpack, naming the entry, and later files are not waited for.
TEST_F(Parallel, WorkerFailureFailsTheUnpack) {
  LayerBuilder b;
  for (int f = 0; f < 200; ++f) b.file("a" + std::to_string(f), "x");
  b.file("bad", "x").xattr("bogus.name", "v");
  for (int f = 0; f < 200; ++f) b.file("b" + std::to_string(f), "x");
  const std::string tar = b.tar();
  for (int i = 0; i < 5; ++i) {
    auto r = unpackInto(dest(i), tar, 2);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().str().find("entry \"bad\""), std::string::npos) << r.error().str();
    EXPECT_NE(r.error().str().find("set xattr bogus.name"), std::string::npos) << r.error().str();
    ASSERT_TRUE(sys::removeAll(dest(i)).ok());
  }
}

// A destination that already holds files is written by the calling thread
// alone (the writer cannot know what exists), with the usual replacement.
TEST_F(Parallel, NonEmptyDestinationStillReplaces) {
  ASSERT_TRUE(sys::mkdirAll(dest(0) + "/d").ok());
  ASSERT_TRUE(sys::writeFileAtomic(dest(0) + "/a", "old").ok());
  ASSERT_TRUE(sys::writeFileAtomic(dest(0) + "/d/x", "old").ok());
  const std::string tar =
      LayerBuilder().file("a", "new a").file("d/x", "new x").file("d/y", "y").tar();
  auto r = unpackInto(dest(0), tar, 4);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(test::readText(dest(0) + "/a"), "new a");
  EXPECT_EQ(test::readText(dest(0) + "/d/x"), "new x");
  EXPECT_EQ(test::readText(dest(0) + "/d/y"), "y");
}

}  // namespace
}  // namespace berth::image::unpack
