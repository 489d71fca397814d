// Unit tests of volume names, volume.json and tar entry names (no root, no disk).
#include <gtest/gtest.h>

#include "storage/volume/metadata.h"
#include "storage/volume/tar.h"
#include "storage/volume/volume.h"

namespace berth::storage::volume {
namespace {

TEST(ValidateName, AcceptsDockerStyleNames) {
  for (const char* name : {"db", "a", "my_vol-1.2", "0abc", "A.B_C-D"}) {
    EXPECT_TRUE(validateName(name).ok()) << name;
  }
  EXPECT_TRUE(validateName(std::string(128, 'x')).ok());
}

TEST(ValidateName, RefusesPathTricksAndNamesTheName) {
  for (const char* name : {"", ".", "..", "../x", "a/b", "/abs", ".hidden", "-x", "_x", "a b", "a\nb",
                           "x/..", "é"}) {
    auto result = validateName(name);
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().code(), EINVAL);
    EXPECT_NE(result.error().what().find("\"" + std::string(name) + "\""), std::string::npos)
        << result.error().what();
  }
  EXPECT_FALSE(validateName(std::string(129, 'x')).ok());
}

TEST(Metadata, RoundTrips) {
  Metadata m;
  m.name = "db";
  m.createdUnix = 1700000000;
  m.labels = {{"project", "shop"}, {"tier", "data"}};
  m.sizeLimitBytes = 64ull << 20;
  m.populated = true;
  auto back = decodeMetadata(encodeMetadata(m), "volume.json");
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(back->name, "db");
  EXPECT_EQ(back->createdUnix, 1700000000);
  EXPECT_EQ(back->labels, m.labels);
  EXPECT_EQ(back->sizeLimitBytes, 64ull << 20);
  EXPECT_TRUE(back->populated);
}

TEST(Metadata, DefaultsRoundTrip) {
  Metadata m;
  m.name = "x";
  auto back = decodeMetadata(encodeMetadata(m), "volume.json");
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_FALSE(back->populated);
  EXPECT_EQ(back->sizeLimitBytes, 0u);
  EXPECT_TRUE(back->labels.empty());
}

TEST(Metadata, InvalidUtf8LabelDoesNotThrow) {
  Metadata m;
  m.name = "x";
  m.labels = {{"k", std::string("\xff\xfe", 2)}};
  auto back = decodeMetadata(encodeMetadata(m), "volume.json");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->labels.count("k"), 1u);
}

TEST(Metadata, CorruptFilesAreErrorsNamingTheFile) {
  for (const char* text : {"", "{", "[]", "{\"version\":1}", "{\"version\":2,\"name\":\"x\",\"createdUnix\":1}",
                           "{\"version\":1,\"name\":\"../x\",\"createdUnix\":1}",
                           "{\"version\":1,\"name\":\"x\",\"createdUnix\":\"1\"}",
                           "{\"version\":1,\"name\":\"x\",\"createdUnix\":1,\"labels\":{\"a\":1}}",
                           "{\"version\":1,\"name\":\"x\",\"createdUnix\":1,\"sizeLimitBytes\":-5}",
                           "{\"version\":1,\"name\":\"x\",\"createdUnix\":1,\"populated\":\"yes\"}"}) {
    auto result = decodeMetadata(text, "/d/volumes/x/volume.json");
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_NE(result.error().what().find("/d/volumes/x/volume.json"), std::string::npos);
  }
}

TEST(CleanEntryPath, NormalizesHarmlessNames) {
  EXPECT_EQ(*cleanEntryPath("./"), "");
  EXPECT_EQ(*cleanEntryPath("."), "");
  EXPECT_EQ(*cleanEntryPath("./a/b/"), "a/b");
  EXPECT_EQ(*cleanEntryPath("a//./b"), "a/b");
  EXPECT_EQ(*cleanEntryPath("a..b/..c"), "a..b/..c");
}

TEST(CleanEntryPath, RefusesEscapesAndNamesTheEntry) {
  for (const char* raw : {"/etc/passwd", "../x", "a/../../x", "a/..", "..", ""}) {
    auto result = cleanEntryPath(raw);
    ASSERT_FALSE(result.ok()) << raw;
    EXPECT_NE(result.error().what().find("entry \"" + std::string(raw) + "\""), std::string::npos);
  }
}

}  // namespace
}  // namespace berth::storage::volume
