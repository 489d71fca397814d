// runc-style flag parsing: long and short names, inline values, booleans,
// "--", and parsing that stops at the first positional argument.
#include "runtime/cli/args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::runtime::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<FlagSpec> kFlags = {
    {"bundle", "b", true, "path to the bundle"},
    {"env", "e", true, "set an environment variable"},
    {"detach", "d", false, "run in the background"},
    {"tty", "t", false, "allocate a terminal"},
};

Args parseOk(std::vector<std::string> argv, size_t begin = 0) {
  auto r = Args::parse(argv, begin, kFlags);
  EXPECT_TRUE(r.ok()) << r.error().str();
  return r.ok() ? std::move(*r) : Args{};
}

TEST(Args, LongFlagWithSeparateValue) {
  Args a = parseOk({"--bundle", "/srv/b", "web"});
  EXPECT_EQ(a.value("bundle"), "/srv/b");
  EXPECT_THAT(a.positionals(), ElementsAre("web"));
}

TEST(Args, LongFlagWithInlineValue) {
  Args a = parseOk({"--bundle=/srv/b", "web"});
  EXPECT_EQ(a.value("bundle"), "/srv/b");
}

TEST(Args, InlineValueMayContainEqualsAndBeEmpty) {
  Args a = parseOk({"--env=A=1", "--bundle=", "web"});
  EXPECT_EQ(a.value("env"), "A=1");
  EXPECT_TRUE(a.has("bundle"));
  EXPECT_EQ(a.value("bundle", "fallback"), "");
}

TEST(Args, ShortAliasesAndSingleDashLongNames) {
  Args a = parseOk({"-b", "/x", "-d", "-bundle", "/y", "web"});
  EXPECT_EQ(a.value("bundle"), "/y") << "the last occurrence wins for value()";
  EXPECT_THAT(a.values("bundle"), ElementsAre("/x", "/y"));
  EXPECT_TRUE(a.flag("detach"));
}

TEST(Args, ShortAliasWithInlineValue) {
  Args a = parseOk({"-b=/x", "web"});
  EXPECT_EQ(a.value("bundle"), "/x");
}

TEST(Args, RepeatedFlagsCollectAllValues) {
  Args a = parseOk({"-e", "A=1", "--env", "B=2", "--env=C=3", "web"});
  EXPECT_THAT(a.values("env"), ElementsAre("A=1", "B=2", "C=3"));
}

TEST(Args, BooleansDefaultFalseAndAcceptExplicitValues) {
  Args none = parseOk({"web"});
  EXPECT_FALSE(none.flag("detach"));
  EXPECT_FALSE(none.has("detach"));

  EXPECT_TRUE(parseOk({"--detach", "web"}).flag("detach"));
  EXPECT_TRUE(parseOk({"--detach=true", "web"}).flag("detach"));
  EXPECT_FALSE(parseOk({"--detach=false", "web"}).flag("detach"));
  EXPECT_FALSE(parseOk({"--detach=0", "web"}).flag("detach"));
  EXPECT_FALSE(parseOk({"--detach=true", "--detach=false", "web"}).flag("detach"))
      << "last one wins";
}

TEST(Args, ABooleanDoesNotSwallowTheNextArgument) {
  Args a = parseOk({"--detach", "web"});
  EXPECT_TRUE(a.flag("detach"));
  EXPECT_THAT(a.positionals(), ElementsAre("web"));
}

TEST(Args, StopsAtTheFirstPositional) {
  // exec ID sh -c 'echo hi' --tty: everything after ID belongs to the command.
  Args a = parseOk({"-t", "web", "sh", "-c", "echo hi", "--tty", "--bundle"});
  EXPECT_TRUE(a.flag("tty"));
  EXPECT_FALSE(a.has("bundle"));
  EXPECT_THAT(a.positionals(), ElementsAre("web", "sh", "-c", "echo hi", "--tty", "--bundle"));
}

TEST(Args, DoubleDashEndsFlags) {
  Args a = parseOk({"--detach", "--", "--bundle", "x"});
  EXPECT_TRUE(a.flag("detach"));
  EXPECT_FALSE(a.has("bundle"));
  EXPECT_THAT(a.positionals(), ElementsAre("--bundle", "x"));
}

TEST(Args, ALoneDashIsAPositional) {
  Args a = parseOk({"-", "x"});
  EXPECT_THAT(a.positionals(), ElementsAre("-", "x"));
}

TEST(Args, BeginSkipsTheCommandName) {
  Args a = parseOk({"berth-runtime", "create", "--bundle", "/b", "web"}, 2);
  EXPECT_EQ(a.value("bundle"), "/b");
  EXPECT_THAT(a.positionals(), ElementsAre("web"));
}

TEST(Args, AFlagTakingAValueTakesTheNextArgEvenIfItLooksLikeAFlag) {
  Args a = parseOk({"--bundle", "--detach", "web"});
  EXPECT_EQ(a.value("bundle"), "--detach");
  EXPECT_FALSE(a.flag("detach"));
}

TEST(Args, UnknownFlagIsNamed) {
  auto r = Args::parse({"--bogus", "web"}, 0, kFlags);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "flag provided but not defined: -bogus");
  auto shortFlag = Args::parse({"-x=1"}, 0, kFlags);
  ASSERT_FALSE(shortFlag.ok());
  EXPECT_EQ(shortFlag.error().str(), "flag provided but not defined: -x");
}

TEST(Args, MissingValueIsNamed) {
  auto r = Args::parse({"--bundle"}, 0, kFlags);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "flag needs an argument: -bundle");
  auto alias = Args::parse({"-b"}, 0, kFlags);
  ASSERT_FALSE(alias.ok());
  EXPECT_THAT(alias.error().str(), HasSubstr("flag needs an argument"));
}

TEST(Args, AccessorsOnAbsentFlags) {
  Args a = parseOk({});
  EXPECT_EQ(a.value("bundle"), "");
  EXPECT_EQ(a.value("bundle", "."), ".");
  EXPECT_TRUE(a.values("env").empty());
  EXPECT_TRUE(a.values("never-declared").empty());
  EXPECT_FALSE(a.flag("never-declared"));
  EXPECT_TRUE(a.positionals().empty());
}

TEST(Usage, ListsEveryFlagWithAliasValueAndHelp) {
  std::string usage = usageOf(kFlags);
  EXPECT_THAT(usage, HasSubstr("--bundle, -b value"));
  EXPECT_THAT(usage, HasSubstr("path to the bundle"));
  EXPECT_THAT(usage, HasSubstr("--detach, -d"));
  EXPECT_THAT(usage, HasSubstr("run in the background"));
  EXPECT_THAT(usage, ::testing::Not(HasSubstr("--detach, -d value")));
  EXPECT_EQ(std::count(usage.begin(), usage.end(), '\n'), 4);
}

TEST(Usage, FlagWithoutAlias) {
  std::string usage = usageOf({{"pid-file", nullptr, true, "write the pid here"}});
  EXPECT_THAT(usage, HasSubstr("--pid-file value"));
  EXPECT_THAT(usage, ::testing::Not(HasSubstr(", -")));
}

}  // namespace
}  // namespace berth::runtime::cli
