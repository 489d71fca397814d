// Hostile layers, generated here rather than kept as binary fixtures: each
// is refused with a reason that names the problem, and nothing outside the
// layer directory changes (the outside/sentinel of UnpackScratch).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/unpack/unpack.h"
#include "tests/unit/image_unpack/layer_builder.h"
#include "tests/unit/image_unpack/scratch.h"

namespace berth::image::unpack {
namespace {

using test::LayerBuilder;

class Hostile : public test::UnpackScratch {
 protected:
  // Unpacks `tar` (gzip-compressed, as real layers are), expects a refusal
  // whose message contains `reason`, and checks the outside is untouched.
  void expectRefused(const std::string& tar, const std::string& reason) {
    auto r = unpack(test::gzip(tar));
    ASSERT_FALSE(r.ok()) << "layer was accepted; expected: " << reason;
    EXPECT_NE(r.error().str().find(reason), std::string::npos) << r.error().str();
    expectOutsideUntouched();
  }
  std::string outsideRel() const { return "../outside"; }
};

TEST_F(Hostile, DotDotPaths) {
  expectRefused(LayerBuilder().file("../outside/evil", "x").tar(), "\"..\" component");
  expectRefused(LayerBuilder().file("a/../../outside/x", "x").tar(), "\"..\" component");
  expectRefused(LayerBuilder().file("/../../escaped", "x").tar(), "\"..\" component");
  expectRefused(LayerBuilder().dir("..").tar(), "\"..\" component");
}

TEST_F(Hostile, AbsolutePathsStayInside) {
  // "/x" means "x" in the layer (docker, containerd): accepted, but inside.
  std::string abs = outside() + "/evil";
  auto r = unpack(LayerBuilder().file(abs, "x").tar());
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(sys::pathExists(at(abs.substr(1))));
  expectOutsideUntouched();
}

TEST_F(Hostile, WriteThroughAbsoluteSymlink) {
  expectRefused(LayerBuilder().symlink("a", outside()).file("a/passwd", "root::0:0").tar(),
                "symlink");
}

TEST_F(Hostile, WriteThroughRelativeSymlink) {
  expectRefused(LayerBuilder().symlink("a", "../outside").file("a/x", "x").tar(), "symlink");
  expectRefused(LayerBuilder().symlink("a", "../outside").dir("a/x").tar(), "symlink");
}

TEST_F(Hostile, WriteThroughSymlinkChain) {
  expectRefused(LayerBuilder().symlink("b", outside()).symlink("a", "b").file("a/x", "x").tar(),
                "symlink");
}

TEST_F(Hostile, WriteThroughSymlinkDeepInThePath) {
  expectRefused(
      LayerBuilder().dir("usr").symlink("usr/lib", outside()).file("usr/lib/x/y", "x").tar(),
      "symlink");
}

TEST_F(Hostile, DirectoryReplacedBySymlinkMidArchive) {
  // "d" is a real directory (and cached as an open fd), then becomes a
  // symlink to the outside, then is written through.
  expectRefused(LayerBuilder()
                    .dir("d")
                    .file("d/first", "fine")
                    .symlink("d", outside())
                    .file("d/passwd", "x")
                    .tar(),
                "symlink");
}

TEST_F(Hostile, WhiteoutAndOpaqueThroughSymlink) {
  expectRefused(LayerBuilder().symlink("a", outside()).file("a/.wh.sentinel", "").tar(), "symlink");
  expectRefused(LayerBuilder().symlink("a", outside()).file("a/.wh..wh..opq", "").tar(), "symlink");
  expectRefused(LayerBuilder().file(".wh..", "").tar(), "names no file");
}

TEST_F(Hostile, FileOverSymlinkReplacesTheLinkNotItsTarget) {
  auto r = unpack(LayerBuilder().symlink("s", sentinel()).file("s", "overwritten?").tar());
  ASSERT_TRUE(r.ok()) << r.error().str();
  struct stat st {};
  ASSERT_EQ(::lstat(at("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(test::readText(at("s")), "overwritten?");
  expectOutsideUntouched();
}

TEST_F(Hostile, HardLinkOutside) {
  expectRefused(LayerBuilder().hardlink("h", "../outside/sentinel").tar(), "\"..\" component");
  expectRefused(LayerBuilder().hardlink("h", sentinel()).tar(),
                "not an earlier file of this layer");
}

TEST_F(Hostile, HardLinkThroughSymlink) {
  // The target is named through a symlink the layer made: the name "a/sentinel"
  // was never an entry, and its parent is a symlink anyway.
  expectRefused(LayerBuilder().symlink("a", outside()).hardlink("h", "a/sentinel").tar(),
                "not an earlier file of this layer");
}

TEST_F(Hostile, HardLinkTargetSwappedForSymlinkParent) {
  // "d/f" is a real earlier file, then "d" becomes a symlink to the outside:
  // linking to "d/f" now would resolve outside, and is refused.
  expectRefused(LayerBuilder()
                    .dir("d")
                    .file("d/sentinel", "mine")
                    .symlink("d", outside())
                    .hardlink("h", "d/sentinel")
                    .tar(),
                "");
}

TEST_F(Hostile, HardLinkToSymlinkLinksTheSymlinkItself) {
  auto r = unpack(LayerBuilder().symlink("s", sentinel()).hardlink("h", "s").tar());
  ASSERT_TRUE(r.ok()) << r.error().str();
  struct stat st {};
  ASSERT_EQ(::lstat(at("h").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  expectOutsideUntouched();
}

TEST_F(Hostile, HardLinkToItselfOrToADirectory) {
  expectRefused(LayerBuilder().file("f", "x").hardlink("f", "f").tar(), "itself");
  expectRefused(LayerBuilder().dir("d").hardlink("h", "d").tar(), "not an earlier file");
  expectRefused(LayerBuilder().hardlink("h", "/").tar(), "itself or the root");
}

TEST_F(Hostile, RootMustBeADirectory) {
  expectRefused(LayerBuilder().file(".", "x").tar(), "root must be a directory");
}

TEST_F(Hostile, NonDirectoryParent) {
  expectRefused(LayerBuilder().file("f", "x").file("f/g", "y").tar(), "not a directory");
}

TEST_F(Hostile, ReplacingADirectoryNeverFollowsSymlinksInIt) {
  // Removing "d" to put a file there must delete the symlink inside it, not
  // the tree it points to.
  auto r =
      unpack(LayerBuilder().dir("d").symlink("d/out", outside()).file("d", "now a file").tar());
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(test::readText(at("d")), "now a file");
  expectOutsideUntouched();
}

TEST_F(Hostile, NotATar) {
  expectRefused(std::string(2048, 'A'), "tar");
}

}  // namespace
}  // namespace berth::image::unpack
