// Archive path normalization and whiteout names (pure logic).
#include "image/unpack/entry_path.h"

#include <gtest/gtest.h>

namespace berth::image::unpack {
namespace {

TEST(EntryPath, SplitsIntoDirAndName) {
  auto p = parseEntryPath("usr/bin/ls");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->dir, "usr/bin");
  EXPECT_EQ(p->name, "ls");
  EXPECT_EQ(p->full(), "usr/bin/ls");
}

TEST(EntryPath, AbsoluteAndDotPathsBecomeRelative) {
  for (const char* raw : {"/etc/passwd", "./etc/passwd", "//etc//./passwd", "etc/passwd/"}) {
    auto p = parseEntryPath(raw);
    ASSERT_TRUE(p.ok()) << raw;
    EXPECT_EQ(p->full(), "etc/passwd") << raw;
  }
  auto top = parseEntryPath("/bin");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->dir, "");
  EXPECT_EQ(top->name, "bin");
}

TEST(EntryPath, RootForms) {
  for (const char* raw : {"", "/", "./", ".", "//./"}) {
    auto p = parseEntryPath(raw);
    ASSERT_TRUE(p.ok()) << raw;
    EXPECT_TRUE(p->isRoot()) << raw;
  }
}

TEST(EntryPath, DotDotIsRefusedAnywhere) {
  for (const char* raw : {"..", "../x", "a/../b", "a/..", "/../etc/passwd", "a/b/../../.."}) {
    auto p = parseEntryPath(raw);
    ASSERT_FALSE(p.ok()) << raw;
    EXPECT_NE(p.error().what().find(".."), std::string::npos);
  }
  // A name that merely starts with dots is an ordinary name.
  auto p = parseEntryPath("a/..b/...");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->full(), "a/..b/...");
}

TEST(EntryPath, OverlongPathIsRefused) {
  EXPECT_FALSE(parseEntryPath(std::string(5000, 'a')).ok());
}

TEST(Whiteout, Classifies) {
  EXPECT_EQ(classifyWhiteout("passwd")->kind, WhiteoutKind::kNone);
  EXPECT_EQ(classifyWhiteout(".whatever")->kind, WhiteoutKind::kNone);
  EXPECT_EQ(classifyWhiteout(".wh..wh..opq")->kind, WhiteoutKind::kOpaque);
  EXPECT_EQ(classifyWhiteout(".wh..wh.plnk")->kind, WhiteoutKind::kIgnored);
  auto file = classifyWhiteout(".wh.passwd");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->kind, WhiteoutKind::kFile);
  EXPECT_EQ(file->target, "passwd");
}

TEST(Whiteout, RefusesEmptyOrDotTargets) {
  EXPECT_FALSE(classifyWhiteout(".wh.").ok());
  EXPECT_FALSE(classifyWhiteout(".wh..").ok());
  EXPECT_FALSE(classifyWhiteout(".wh...").ok());
}

}  // namespace
}  // namespace berth::image::unpack
