// parseSize (the --disk and volume size syntax) and the mkfs command line.
#include <gtest/gtest.h>

#include <algorithm>

#include "storage/disk/disk.h"

namespace berth::storage::disk {
namespace {

TEST(ParseSize, PlainBytesAndBinaryUnits) {
  EXPECT_EQ(*parseSize("0"), 0u);
  EXPECT_EQ(*parseSize("4096"), 4096u);
  EXPECT_EQ(*parseSize("512k"), 512ull << 10);
  EXPECT_EQ(*parseSize("512K"), 512ull << 10);
  EXPECT_EQ(*parseSize("64M"), 64ull << 20);
  EXPECT_EQ(*parseSize("64m"), 64ull << 20);
  EXPECT_EQ(*parseSize("10G"), 10ull << 30);
  EXPECT_EQ(*parseSize("1T"), 1ull << 40);
  EXPECT_EQ(*parseSize("2P"), 2ull << 50);
}

TEST(ParseSize, OptionalByteSuffix) {
  EXPECT_EQ(*parseSize("100B"), 100u);
  EXPECT_EQ(*parseSize("100b"), 100u);
  EXPECT_EQ(*parseSize("10GB"), 10ull << 30);
  EXPECT_EQ(*parseSize("10GiB"), 10ull << 30);
  EXPECT_EQ(*parseSize("10gib"), 10ull << 30);
  EXPECT_EQ(*parseSize("64MB"), 64ull << 20);
}

TEST(ParseSize, RejectsMalformedTextAndNamesIt) {
  for (const char* text : {"", "M", "-1", "+5", " 5", "5 ", "1.5G", "10X", "10GG", "10iB", "10Gi",
                           "0x10", "10G0", "ten"}) {
    auto r = parseSize(text);
    ASSERT_FALSE(r.ok()) << "accepted \"" << text << "\"";
    EXPECT_EQ(r.error().code(), EINVAL);
    EXPECT_NE(r.error().str().find("\"" + std::string(text) + "\""), std::string::npos)
        << r.error().str();
  }
}

TEST(ParseSize, RejectsOverflow) {
  EXPECT_EQ(*parseSize("18446744073709551615"), 18446744073709551615ull);
  EXPECT_FALSE(parseSize("18446744073709551616").ok());
  EXPECT_FALSE(parseSize("99999999999999999999999").ok());
  EXPECT_FALSE(parseSize("16384P").ok());  // 2^64
  EXPECT_EQ(*parseSize("16383P"), 16383ull << 50);
  EXPECT_FALSE(parseSize("17179869184G").ok());  // 2^64
}

bool has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

TEST(MkfsArgv, FixedBlockSizeNoReserveNoDiscardLazyInit) {
  auto argv = mkfsArgv("/sbin/mkfs.ext4", "/d/disk.img", 64ull << 20);
  ASSERT_GE(argv.size(), 4u);
  EXPECT_EQ(argv.front(), "/sbin/mkfs.ext4");
  EXPECT_EQ(argv[argv.size() - 2], "/d/disk.img");
  EXPECT_EQ(argv.back(), std::to_string((64ull << 20) / kBlockSize)) << "block count";
  EXPECT_TRUE(has(argv, "-F")) << "must never stop at a prompt";
  EXPECT_TRUE(has(argv, "4096"));
  EXPECT_TRUE(has(argv, "nodiscard,lazy_itable_init=1,lazy_journal_init=1"));
  auto m = std::find(argv.begin(), argv.end(), "-m");
  ASSERT_NE(m, argv.end());
  EXPECT_EQ(*(m + 1), "0");
  EXPECT_FALSE(has(argv, "-J")) << "small disks keep mke2fs's (small) journal";
}

TEST(MkfsArgv, JournalCappedOnLargeDisks) {
  auto argv = mkfsArgv("/sbin/mkfs.ext4", "/d/disk.img", 10ull << 30);
  auto j = std::find(argv.begin(), argv.end(), "-J");
  ASSERT_NE(j, argv.end());
  EXPECT_EQ(*(j + 1), "size=16");
}

}  // namespace
}  // namespace berth::storage::disk
