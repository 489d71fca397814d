// unpackLayer on generated layers: every entry type, attributes, whiteouts,
// replacement rules, the DiffID, and the three compressions.
#include "image/unpack/unpack.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/unit/image_unpack/layer_builder.h"
#include "tests/unit/image_unpack/scratch.h"

namespace berth::image::unpack {
namespace {

using test::LayerBuilder;

class Unpack : public test::UnpackScratch {
 protected:
  struct stat lstatOf(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat(at(rel).c_str(), &st), 0) << rel;
    return st;
  }
};

std::string everyType() {
  return LayerBuilder()
      .dir("etc", 0755)
      .mtime(1600000000)
      .file("etc/hostname", "berth\n", 0644)
      .mtime(1500000000)
      .file("bin/tool", std::string(200000, 'x'), 04755)  // setuid, implicit parent
      .dir("tmp", 01777)
      .symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
      .hardlink("bin/tool2", "bin/tool")
      .node("run/fifo", AE_IFIFO, 0600)
      .file("etc/attr", "x")
      .xattr("user.berth.test", "value")
      .dir("ro", 0555)
      .file("ro/inside", "child of a read-only directory", 0444)
      .tar();
}

TEST_F(Unpack, EveryEntryTypeAndAttribute) {
  std::string tar = everyType();
  auto r = unpack(tar);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->diffId, test::sha256Digest(tar));
  EXPECT_EQ(r->uncompressedSize, tar.size());
  EXPECT_EQ(r->compressedSize, tar.size());
  EXPECT_EQ(r->compression, Compression::kNone);
  EXPECT_EQ(r->entries, 10u);

  EXPECT_EQ(test::readText(at("etc/hostname")), "berth\n");
  EXPECT_EQ(lstatOf("etc/hostname").st_mtime, 1500000000);
  EXPECT_EQ(lstatOf("etc").st_mtime, 1600000000) << "directory mtime fixed after its children";
  EXPECT_EQ(lstatOf("bin/tool").st_mode & 07777, 04755u);
  EXPECT_EQ(lstatOf("bin/tool").st_size, 200000);
  EXPECT_EQ(lstatOf("tmp").st_mode & 07777, 01777u);
  EXPECT_TRUE(S_ISLNK(lstatOf("etc/localtime").st_mode));
  char target[256] = {};
  ASSERT_GT(::readlink(at("etc/localtime").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "/usr/share/zoneinfo/UTC");
  EXPECT_EQ(lstatOf("bin/tool2").st_ino, lstatOf("bin/tool").st_ino);
  EXPECT_TRUE(S_ISFIFO(lstatOf("run/fifo").st_mode));
  EXPECT_EQ(lstatOf("run/fifo").st_mode & 0777, 0600u);
  char value[32] = {};
  ASSERT_EQ(::getxattr(at("etc/attr").c_str(), "user.berth.test", value, sizeof(value)), 5);
  EXPECT_STREQ(value, "value");
  EXPECT_EQ(lstatOf("ro").st_mode & 07777, 0555u);
  EXPECT_EQ(test::readText(at("ro/inside")), "child of a read-only directory");
  EXPECT_EQ(lstatOf("ro/inside").st_mode & 07777, 0444u);
}

TEST_F(Unpack, GzipZstdAndPlainGiveTheSameTreeAndDiffId) {
  std::string tar = everyType();
  struct Case {
    std::string blob;
    Compression expect;
  } cases[] = {{tar, Compression::kNone},
               {test::gzip(tar), Compression::kGzip},
               {test::gzip(tar, 3), Compression::kGzip},
               {test::zstd(tar, 2), Compression::kZstd}};
  for (auto& c : cases) {
    ASSERT_TRUE(sys::removeAll(layer()).ok());
    ASSERT_TRUE(sys::mkdirAll(layer()).ok());
    auto r = unpack(c.blob);
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ(r->compression, c.expect);
    EXPECT_EQ(r->diffId, test::sha256Digest(tar));
    EXPECT_EQ(r->compressedSize, c.blob.size());
    EXPECT_EQ(test::readText(at("ro/inside")), "child of a read-only directory");
  }
}

TEST_F(Unpack, WithoutReaderThreadAndWithTinyChunks) {
  std::string tar = everyType();
  UnpackOptions o;
  o.pipeline = false;
  o.chunkSize = 4096;
  auto r = unpack(test::gzip(tar, 2), o);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->diffId, test::sha256Digest(tar));
  o.pipeline = true;
  o.chunks = 2;
  ASSERT_TRUE(sys::removeAll(layer()).ok() && sys::mkdirAll(layer()).ok());
  r = unpack(test::gzip(tar, 2), o);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->diffId, test::sha256Digest(tar));
  EXPECT_EQ(lstatOf("bin/tool").st_size, 200000);
}

TEST_F(Unpack, DiffIdCoversPaddingAfterTheEndMarker) {
  // Real tar writers pad to 10 KiB records; the DiffID hashes all of it.
  std::string tar = LayerBuilder().file("a", "a").tar() + std::string(9216, '\0');
  auto r = unpack(test::gzip(tar));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->diffId, test::sha256Digest(tar));
  EXPECT_EQ(r->uncompressedSize, tar.size());
}

TEST_F(Unpack, ExpectedDiffIdMismatchIsAnError) {
  std::string tar = LayerBuilder().file("a", "a").tar();
  UnpackOptions o;
  o.expectedDiffId = test::sha256Digest("something else");
  auto r = unpack(tar, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("DiffID"), std::string::npos);
  o.expectedDiffId = test::sha256Digest(tar);
  ASSERT_TRUE(sys::removeAll(layer()).ok() && sys::mkdirAll(layer()).ok());
  EXPECT_TRUE(unpack(tar, o).ok());
}

TEST_F(Unpack, EmptyLayers) {
  EXPECT_TRUE(unpack(std::string(1024, '\0')).ok());  // docker's empty layer
  auto r = unpack(test::gzip(std::string(1024, '\0')));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->entries, 0u);
}

TEST_F(Unpack, LaterEntriesReplaceEarlierOnes) {
  std::string tar = LayerBuilder()
                        .file("a", "first")
                        .file("a", "second")
                        .dir("b")
                        .file("b/child", "gone")
                        .file("b", "file now")
                        .file("c", "file")
                        .dir("c", 0700)
                        .file("c/x", "in dir")
                        .symlink("d", "somewhere")
                        .file("d", "real file")
                        .tar();
  auto r = unpack(tar);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(test::readText(at("a")), "second");
  EXPECT_EQ(test::readText(at("b")), "file now");
  EXPECT_EQ(test::readText(at("c/x")), "in dir");
  EXPECT_TRUE(S_ISREG(lstatOf("d").st_mode));
}

TEST_F(Unpack, RootEntryAndAbsolutePaths) {
  std::string tar = LayerBuilder()
                        .dir("./", 0750)
                        .mtime(1234567890)
                        .file("/etc/abs", "absolute made relative")
                        .file("./etc/dot", "dot")
                        .tar();
  auto r = unpack(tar);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(test::readText(at("etc/abs")), "absolute made relative");
  EXPECT_EQ(test::readText(at("etc/dot")), "dot");
  struct stat st {};
  ASSERT_EQ(::stat(layer().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtime, 1234567890);
}

TEST_F(Unpack, WhiteoutsBecomeOverlayWhiteouts) {
  std::string tar = LayerBuilder()
                        .dir("etc")
                        .file("etc/.wh.passwd", "")
                        .file(".wh.gone-dir", "")
                        .dir("opaque")
                        .file("opaque/.wh..wh..opq", "")
                        .file("opaque/new", "upper")
                        .file("etc/.wh..wh.plnk", "")  // aufs bookkeeping: ignored
                        .tar();
  UnpackOptions o;
  o.userXattrs = ::geteuid() != 0;  // trusted.* needs CAP_SYS_ADMIN
  auto r = unpack(tar, o);
  ASSERT_TRUE(r.ok()) << r.error().str();
  for (const char* wh : {"etc/passwd", "gone-dir"}) {
    struct stat st = lstatOf(wh);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << wh;
    EXPECT_EQ(st.st_rdev, ::makedev(0, 0)) << wh;
  }
  EXPECT_FALSE(sys::pathExists(at("etc/.wh.passwd")));
  EXPECT_FALSE(sys::pathExists(at("etc/plnk")));
  EXPECT_FALSE(sys::pathExists(at("opaque/.wh..wh..opq")));
  char v[4] = {};
  const char* name = o.userXattrs ? "user.overlay.opaque" : "trusted.overlay.opaque";
  ASSERT_EQ(::getxattr(at("opaque").c_str(), name, v, sizeof(v)), 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_EQ(test::readText(at("opaque/new")), "upper");
}

TEST_F(Unpack, UserXattrOpaqueOption) {
  UnpackOptions o;
  o.userXattrs = true;
  auto r = unpack(LayerBuilder().dir("d").file("d/.wh..wh..opq", "").tar(), o);
  ASSERT_TRUE(r.ok()) << r.error().str();
  char v[4] = {};
  EXPECT_EQ(::getxattr(at("d").c_str(), "user.overlay.opaque", v, sizeof(v)), 1);
  EXPECT_LT(::getxattr(at("d").c_str(), "trusted.overlay.opaque", v, sizeof(v)), 0);
}

TEST_F(Unpack, SameLayerEntryWinsOverItsWhiteout) {
  // image-spec: a whiteout only hides lower layers; a file of the same layer stays.
  auto r = unpack(LayerBuilder().file("keep", "kept").file(".wh.keep", "").tar());
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(test::readText(at("keep")), "kept");
}

TEST_F(Unpack, OverlayXattrsFromTheArchiveAreDropped) {
  std::string tar = LayerBuilder()
                        .dir("d")
                        .xattr("trusted.overlay.redirect", "/etc")
                        .file("f", "x")
                        .xattr("user.overlay.metacopy", "")
                        .tar();
  auto r = unpack(tar);
  ASSERT_TRUE(r.ok()) << r.error().str();
  char v[16];
  EXPECT_LT(::getxattr(at("d").c_str(), "trusted.overlay.redirect", v, sizeof(v)), 0);
  EXPECT_LT(::getxattr(at("f").c_str(), "user.overlay.metacopy", v, sizeof(v)), 0);
}

TEST_F(Unpack, CorruptInputIsAnError) {
  std::string tar = everyType();
  auto garbage = unpack(std::string(4096, 'z'));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().what().find("unpack layer into"), std::string::npos);
  ASSERT_TRUE(sys::removeAll(layer()).ok() && sys::mkdirAll(layer()).ok());
  auto truncated = unpack(tar.substr(0, 700));
  EXPECT_FALSE(truncated.ok());
  ASSERT_TRUE(sys::removeAll(layer()).ok() && sys::mkdirAll(layer()).ok());
  std::string gz = test::gzip(tar);
  auto cut = unpack(gz.substr(0, gz.size() - 100));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().what().find("truncated"), std::string::npos) << cut.error().str();
}

TEST_F(Unpack, RefusesUnknownMediaType) {
  int fd = test::blobFd(LayerBuilder().file("a", "a").tar());
  auto r = unpackLayer(fd, "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", layer());
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(sys::pathExists(at("a")));
}

TEST_F(Unpack, ReadsFromAPipe) {
  std::string tar = everyType();
  std::string gz = test::gzip(tar, 2);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(p[0]);
    for (size_t off = 0; off < gz.size(); off += 1000) {
      if (::write(p[1], gz.data() + off, std::min<size_t>(1000, gz.size() - off)) < 0) _exit(1);
    }
    _exit(0);
  }
  ::close(p[1]);
  auto r = image::unpack::unpackLayer(p[0], "", layer());
  ::close(p[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->diffId, test::sha256Digest(tar));
}

}  // namespace
}  // namespace berth::image::unpack
