// Compression detection and the gzip/zstd/plain readers, including
// multi-member gzip, multi-frame zstd, padding and corrupt input.
#include "image/unpack/decompress.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/unit/image_unpack/layer_builder.h"

namespace berth::image::unpack {
namespace {

sys::Result<std::string> decompressAll(const std::string& blob, Compression* seen = nullptr) {
  int fd = test::blobFd(blob);
  auto d = Decompressor::open(fd, 4096);  // small input chunks: exercise refills
  if (!d) {
    ::close(fd);
    return std::move(d).error();
  }
  if (seen) *seen = (*d)->compression();
  std::string out;
  char buf[3000];
  for (;;) {
    auto n = (*d)->read(reinterpret_cast<uint8_t*>(buf), sizeof(buf));
    if (!n) {
      ::close(fd);
      return std::move(n).error();
    }
    if (*n == 0) break;
    out.append(buf, *n);
  }
  EXPECT_EQ((*d)->compressedBytes(), blob.size());
  ::close(fd);
  return out;
}

std::string sample(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i * 7919 % 1000) + "\n";
  s.resize(n);
  return s;
}

TEST(Decompress, DetectsByMagic) {
  const uint8_t gz[] = {0x1f, 0x8b, 8, 0};
  const uint8_t zs[] = {0x28, 0xb5, 0x2f, 0xfd};
  const uint8_t tar[] = {'b', 'i', 'n', '/'};
  EXPECT_EQ(detectCompression(gz, 4), Compression::kGzip);
  EXPECT_EQ(detectCompression(zs, 4), Compression::kZstd);
  EXPECT_EQ(detectCompression(tar, 4), Compression::kNone);
  EXPECT_EQ(detectCompression(gz, 1), Compression::kNone);
}

TEST(Decompress, MediaTypes) {
  EXPECT_TRUE(checkLayerMediaType("").ok());
  EXPECT_TRUE(checkLayerMediaType("application/vnd.oci.image.layer.v1.tar+zstd").ok());
  EXPECT_TRUE(checkLayerMediaType("application/vnd.docker.image.rootfs.diff.tar.gzip").ok());
  auto enc = checkLayerMediaType("application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.error().what().find("unsupported layer media type"), std::string::npos);
}

TEST(Decompress, PlainPassesThrough) {
  std::string data = sample(100000);
  Compression c;
  auto out = decompressAll(data, &c);
  ASSERT_TRUE(out.ok()) << out.error().str();
  EXPECT_EQ(c, Compression::kNone);
  EXPECT_EQ(*out, data);
}

TEST(Decompress, GzipSingleAndMultiMember) {
  std::string data = sample(300000);
  for (size_t members : {1, 2, 7}) {
    Compression c;
    auto out = decompressAll(test::gzip(data, members), &c);
    ASSERT_TRUE(out.ok()) << members << ": " << out.error().str();
    EXPECT_EQ(c, Compression::kGzip);
    EXPECT_EQ(*out, data) << members << " members";
  }
}

TEST(Decompress, GzipTrailingZerosAreTolerated) {
  std::string data = sample(5000);
  auto out = decompressAll(test::gzip(data) + std::string(1000, '\0'));
  ASSERT_TRUE(out.ok()) << out.error().str();
  EXPECT_EQ(*out, data);
}

TEST(Decompress, GzipGarbageTruncationAndCorruptionAreErrors) {
  std::string gz = test::gzip(sample(50000));
  auto garbage = decompressAll(gz + "garbage");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().what().find("trailing garbage"), std::string::npos);
  auto truncated = decompressAll(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().what().find("truncated"), std::string::npos);
  std::string corrupt = gz;
  corrupt[corrupt.size() - 6] ^= 0x55;  // inside the CRC32 trailer
  EXPECT_FALSE(decompressAll(corrupt).ok());
}

TEST(Decompress, ZstdSingleAndMultiFrame) {
  std::string data = sample(300000);
  for (size_t frames : {1, 3}) {
    Compression c;
    auto out = decompressAll(test::zstd(data, frames), &c);
    ASSERT_TRUE(out.ok()) << out.error().str();
    EXPECT_EQ(c, Compression::kZstd);
    EXPECT_EQ(*out, data);
  }
  std::string zs = test::zstd(data);
  EXPECT_FALSE(decompressAll(zs.substr(0, zs.size() - 10)).ok());
}

}  // namespace
}  // namespace berth::image::unpack
