// Test helper: a scratch directory per test holding the layer destination
// and, beside it, an "outside" directory with a sentinel file that no layer
// may ever change. Removed on teardown even when the test fails.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "image/unpack/unpack.h"
#include "runtime/sys/fs.h"
#include "tests/unit/image_unpack/layer_builder.h"

namespace berth::test {

class UnpackScratch : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    base_ =
        "/tmp/berth-unpack-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    ASSERT_TRUE(sys::mkdirAll(base_ + "/layer").ok());
    ASSERT_TRUE(sys::mkdirAll(base_ + "/outside").ok());
    ASSERT_TRUE(sys::writeFileAtomic(sentinel(), "untouched").ok());
  }
  void TearDown() override { (void)sys::removeAll(base_).ok(); }

  std::string layer() const { return base_ + "/layer"; }
  std::string outside() const { return base_ + "/outside"; }
  std::string sentinel() const { return base_ + "/outside/sentinel"; }
  std::string at(const std::string& rel) const { return layer() + "/" + rel; }

  sys::Result<image::unpack::UnpackResult> unpack(const std::string& blob,
                                                  const image::unpack::UnpackOptions& o = {}) {
    int fd = blobFd(blob);
    auto r = image::unpack::unpackLayer(fd, "", layer(), o);
    ::close(fd);
    return r;
  }

  // The outside directory holds exactly the sentinel, unchanged.
  void expectOutsideUntouched() {
    auto text = sys::readFile(sentinel());
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, "untouched");
    int entries = 0;
    for (const char* name : {"passwd", "x", "escaped", "evil"}) {
      entries += sys::pathExists(outside() + "/" + name) ? 1 : 0;
    }
    EXPECT_EQ(entries, 0);
    struct stat st {};
    ASSERT_EQ(::lstat(sentinel().c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u) << "the sentinel was hard-linked into the layer";
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_FALSE(sys::pathExists(base_ + "/escaped"));
  }

  std::string base_;
};

inline std::string readText(const std::string& path) {
  auto r = sys::readFile(path);
  return r ? *r : "<missing: " + r.error().str() + ">";
}

}  // namespace berth::test
