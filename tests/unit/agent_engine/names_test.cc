// Container ids, generated names, name rules and lookups (agent/engine/names.h).
#include "agent/engine/names.h"

#include <gtest/gtest.h>

#include <set>

namespace berth::agent::engine {
namespace {

TEST(Names, IdsAre64LowercaseHexAndDiffer) {
  auto a = generateContainerId();
  auto b = generateContainerId();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(isFullId(*a)) << *a;
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(isFullId("ABC"));
  EXPECT_FALSE(isFullId(std::string(64, 'g')));
}

TEST(Names, GeneratedNamesAreAdjectiveUnderscoreSurnameAndAvoidTakenOnes) {
  std::set<std::string> taken;
  for (int i = 0; i < 3000; ++i) {
    std::string name = generateName([&](const std::string& n) { return taken.count(n) > 0; });
    ASSERT_TRUE(taken.insert(name).second) << name;
    ASSERT_NE(name.find('_'), std::string::npos) << name;
    ASSERT_TRUE(validateName(name)) << name;
  }
}

TEST(Names, ValidateNameFollowsDockersRule) {
  EXPECT_TRUE(validateName("web"));
  EXPECT_TRUE(validateName("web-1.a_b"));
  EXPECT_TRUE(validateName("9lives"));
  EXPECT_FALSE(validateName(""));
  EXPECT_FALSE(validateName("-web"));
  EXPECT_FALSE(validateName("we b"));
  EXPECT_FALSE(validateName("a/b"));
  EXPECT_FALSE(validateName(std::string(129, 'a')));
  auto looksLikeId = validateName(std::string(64, 'a'));
  ASSERT_FALSE(looksLikeId);
  EXPECT_NE(looksLikeId.error().what().find("container id"), std::string::npos);
}

TEST(Names, ResolveByIdNameAndUniquePrefix) {
  NameIndex index;
  std::string a = "aaaa" + std::string(60, '1');
  std::string b = "aaab" + std::string(60, '2');
  ASSERT_TRUE(index.add(a, "web"));
  ASSERT_TRUE(index.add(b, "db"));
  EXPECT_FALSE(index.add("cccc", "web"));  // name taken

  EXPECT_EQ(*index.resolve(a), a);
  EXPECT_EQ(*index.resolve("web"), a);
  EXPECT_EQ(*index.resolve("db"), b);
  EXPECT_EQ(*index.resolve("aaaa"), a);
  EXPECT_EQ(*index.resolve("aaab2"), b);

  auto ambiguous = index.resolve("aaa");
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().code(), 0);
  EXPECT_NE(ambiguous.error().what().find("ambiguous"), std::string::npos);

  auto missing = index.resolve("nothere");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_EQ(missing.error().what(), "no such container: nothere");

  index.remove(a);
  EXPECT_FALSE(index.resolve("web"));
  EXPECT_EQ(*index.resolve("aaa"), b);
  EXPECT_FALSE(index.nameTaken("web"));
}

TEST(Names, ANameWinsOverAnIdPrefix) {
  NameIndex index;
  std::string a = "beef" + std::string(60, '1');
  std::string b = "cafe" + std::string(60, '2');
  ASSERT_TRUE(index.add(a, "x"));
  ASSERT_TRUE(index.add(b, "beef"));
  EXPECT_EQ(*index.resolve("beef"), b);
}

}  // namespace
}  // namespace berth::agent::engine
