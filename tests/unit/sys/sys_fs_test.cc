// Unit tests for runtime/sys: Result, path cleaning, crash-safe writes and
// resolution confined to a root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "runtime/sys/fs.h"
#include "runtime/sys/result.h"

namespace berth::sys {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-unit-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)removeAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<int> half(int v) {
  if (v % 2) return Error::invalid("odd value " + std::to_string(v));
  return v / 2;
}

Result<int> quarter(int v) {
  int h = BERTH_TRY_CTX(half(v), "first half");
  return BERTH_TRY(half(h));
}

TEST(Result, CarriesValueOrContextualError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().str(), "odd value 3");
  auto r2 = quarter(5);
  EXPECT_EQ(r2.error().str(), "first half: odd value 5");
}

TEST(Result, ErrnoIsRenderedAfterTheContext) {
  Error e(ENOENT, "open /nope");
  EXPECT_EQ(std::move(e).context("load config").str(),
            "load config: open /nope: No such file or directory");
}

TEST(CleanPath, NeverClimbsAboveRoot) {
  EXPECT_EQ(cleanPath("/a/b/../c"), "/a/c");
  EXPECT_EQ(cleanPath("/../../etc//passwd"), "/etc/passwd");
  EXPECT_EQ(cleanPath("a/./b/"), "a/b");
  EXPECT_EQ(cleanPath("../x"), "../x");
  EXPECT_EQ(cleanPath(""), ".");
  EXPECT_EQ(cleanPath("/"), "/");
}

TEST(JoinPath, OneSlashBetween) {
  EXPECT_EQ(joinPath("/a/", "/b"), "/a/b");
  EXPECT_EQ(joinPath("/a", "b/c"), "/a/b/c");
}

TEST(WriteFileAtomic, ReplacesContentAndLeavesNoTemp) {
  TempDir dir;
  std::string f = dir.path() + "/state.json";
  ASSERT_TRUE(writeFileAtomic(f, "one"));
  ASSERT_TRUE(writeFileAtomic(f, "two", 0600));
  EXPECT_EQ(*readFile(f), "two");
  struct stat st;
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(pathExists(f + ".tmp." + std::to_string(::getpid())));
}

TEST(MkdirAll, CreatesNestedAndRejectsFiles) {
  TempDir dir;
  ASSERT_TRUE(mkdirAll(dir.path() + "/a/b/c"));
  ASSERT_TRUE(mkdirAll(dir.path() + "/a/b/c"));
  ASSERT_TRUE(writeFileAtomic(dir.path() + "/f", "x"));
  auto r = mkdirAll(dir.path() + "/f/g");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOTDIR);
}

TEST(OpenInRoot, SymlinksCannotEscape) {
  TempDir outside;
  TempDir root;
  ASSERT_TRUE(writeFileAtomic(outside.path() + "/secret", "host"));
  ASSERT_EQ(::symlink((outside.path() + "/secret").c_str(), (root.path() + "/link").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../..", (root.path() + "/up").c_str()), 0);
  UniqueFd rootfd(::open(root.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(rootfd);
  // The absolute symlink is resolved against the root, where it does not exist.
  auto r = openInRoot(rootfd.get(), "/link", O_RDONLY);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
  // ".." chains stop at the root.
  auto up = openInRoot(rootfd.get(), "up", O_PATH | O_DIRECTORY);
  ASSERT_TRUE(up);
  struct stat a, b;
  ASSERT_EQ(::fstat(up->get(), &a), 0);
  ASSERT_EQ(::fstat(rootfd.get(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(MkdirAllInRoot, FollowsSymlinksOnlyInsideRoot) {
  TempDir outside;
  TempDir root;
  ASSERT_EQ(::symlink(outside.path().c_str(), (root.path() + "/evil").c_str()), 0);
  UniqueFd rootfd(::open(root.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  // The symlink dangles inside the root, so nothing is created anywhere.
  EXPECT_FALSE(mkdirAllInRoot(rootfd.get(), "/evil/sub"));
  EXPECT_FALSE(pathExists(outside.path() + "/sub"));
  // Once its in-root target exists, the directory lands there, never outside.
  ASSERT_TRUE(mkdirAll(root.path() + outside.path()));
  ASSERT_TRUE(mkdirAllInRoot(rootfd.get(), "/evil/sub"));
  EXPECT_FALSE(pathExists(outside.path() + "/sub"));
  EXPECT_TRUE(pathExists(root.path() + outside.path() + "/sub"));
}

}  // namespace
}  // namespace berth::sys

namespace berth::sys {
namespace {

TEST(UnescapeMountinfoField, OctalEscapesOnly) {
  EXPECT_EQ(unescapeMountinfoField("a\\040b\\011c\\012d\\134e"), "a b\tc\nd\\e");
  EXPECT_EQ(unescapeMountinfoField("trailing\\04"), "trailing\\04");
  EXPECT_EQ(unescapeMountinfoField("\\999"), "\\999");
  EXPECT_EQ(unescapeMountinfoField("/plain/path"), "/plain/path");
}

}  // namespace
}  // namespace berth::sys
