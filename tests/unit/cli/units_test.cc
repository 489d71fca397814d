// Size and number arguments (`update --memory 64M --cpu-period 100000`).
#include "runtime/cli/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::runtime::cli {
namespace {

using ::testing::HasSubstr;

int64_t bytes(const std::string& text) {
  auto r = parseBytes("memory", text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().str();
  return r.ok() ? *r : -2;
}

TEST(ParseBytes, PlainNumbersAreBytes) {
  EXPECT_EQ(bytes("0"), 0);
  EXPECT_EQ(bytes("1048576"), 1048576);
  EXPECT_EQ(bytes("9223372036854775807"), INT64_MAX) << "exact, not rounded through a double";
  EXPECT_EQ(bytes("64 "), 64);
}

TEST(ParseBytes, MinusOneIsUnlimited) {
  EXPECT_EQ(bytes("-1"), -1);
}

TEST(ParseBytes, BinaryUnitsInAnySpelling) {
  EXPECT_EQ(bytes("512k"), 512 * 1024);
  EXPECT_EQ(bytes("512K"), 512 * 1024);
  EXPECT_EQ(bytes("64m"), 64LL << 20);
  EXPECT_EQ(bytes("64M"), 64LL << 20);
  EXPECT_EQ(bytes("64MB"), 64LL << 20);
  EXPECT_EQ(bytes("64mb"), 64LL << 20);
  EXPECT_EQ(bytes("64MiB"), 64LL << 20);
  EXPECT_EQ(bytes("64 M"), 64LL << 20);
  EXPECT_EQ(bytes("2g"), 2LL << 30);
  EXPECT_EQ(bytes("1t"), 1LL << 40);
  EXPECT_EQ(bytes("1p"), 1LL << 50);
  EXPECT_EQ(bytes("100b"), 100);
}

TEST(ParseBytes, Fractions) {
  EXPECT_EQ(bytes("1.5g"), 3LL << 29);
  EXPECT_EQ(bytes("0.5k"), 512);
}

TEST(ParseBytes, RejectsWhatIsNotASize) {
  for (const char* text :
       {"", "m", "-5", "-1m", "abc", "inf", "nan", " 64m", "1.", ".5", "+5", "1.g"}) {
    auto r = parseBytes("memory", text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(r.error().str(), HasSubstr("--memory: not a size")) << text;
  }
}

TEST(ParseBytes, RejectsUnknownUnits) {
  for (const char* text : {"64x", "64mm", "64  m", "1kb2", "64mbi", "0x10", "1e9", "8e"}) {
    auto r = parseBytes("memory-swap", text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(r.error().str(), HasSubstr("--memory-swap: unknown unit")) << text;
  }
}

TEST(ParseBytes, RejectsSizesThatDoNotFit) {
  for (const char* text :
       {"9223372036854775808", "8192p", "8191.99999999999999999p", "99999999999999999999999999g"}) {
    auto r = parseBytes("memory", text);
    ASSERT_FALSE(r.ok()) << text;
  }
  auto r = parseBytes("memory", "8192p");
  EXPECT_THAT(r.error().str(), HasSubstr("--memory: size too large"));
  EXPECT_EQ(bytes("8191p"), 8191LL << 50);
}

TEST(ParseInteger, Numbers) {
  EXPECT_EQ(*parseInteger("cpu-quota", "100000"), 100000);
  EXPECT_EQ(*parseInteger("cpu-quota", "-1"), -1);
  EXPECT_EQ(*parseInteger("cpu-quota", "+5"), 5);
  EXPECT_EQ(*parseInteger("x", "9223372036854775807"), INT64_MAX);
}

TEST(ParseInteger, RejectsNonNumbers) {
  for (const char* text : {"", "1x", "x1", " 1", "1 ", "1.0", "0x10", "+", "-"}) {
    auto r = parseInteger("cpu-period", text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(r.error().str(), HasSubstr("--cpu-period: not a number")) << text;
  }
}

TEST(ParseInteger, RejectsOverflowAndOutOfRange) {
  auto big = parseInteger("pids-limit", "99999999999999999999");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().str(), HasSubstr("--pids-limit: 99999999999999999999 is out of range"));

  auto negative = parseInteger("cpu-period", "-5", 0);
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.error().str(), HasSubstr("out of range"));

  auto weight = parseInteger("blkio-weight", "70000", 10, 1000);
  ASSERT_FALSE(weight.ok());
  EXPECT_THAT(weight.error().str(),
              HasSubstr("--blkio-weight: 70000 is out of range (10 to 1000)"));
  EXPECT_EQ(*parseInteger("blkio-weight", "500", 10, 1000), 500);
}

}  // namespace
}  // namespace berth::runtime::cli
