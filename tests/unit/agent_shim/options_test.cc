// berth-shim's command line: what berthd passes is what the shim reads.
#include <gtest/gtest.h>

#include "agent/shim/options.h"

namespace berth::agent::shim {
namespace {

std::vector<std::string> required() {
  return {"--id", "web", "--bundle", "/b", "--state-root", "/run/s", "--dir", "/var/c/web"};
}

TEST(ShimOptions, ParsesRequiredAndDefaults) {
  auto o = parseShimArgs(required());
  ASSERT_TRUE(o) << o.error().str();
  EXPECT_EQ(o->id, "web");
  EXPECT_EQ(o->bundle, "/b");
  EXPECT_EQ(o->stateRoot, "/run/s");
  EXPECT_EQ(o->dir, "/var/c/web");
  EXPECT_FALSE(o->tty);
  EXPECT_FALSE(o->openStdin);
  EXPECT_EQ(o->reportFd, -1);
  EXPECT_EQ(o->seccompCacheDir, "");
  EXPECT_EQ(o->logMaxSize, kDefaultLogMaxSize);
  EXPECT_EQ(o->logMaxFiles, kDefaultLogMaxFiles);
}

TEST(ShimOptions, ParsesFlagsAndEqualsForm) {
  auto args = required();
  args.insert(args.end(), {"--tty", "--stdin", "--report-fd=3", "--log-max-size", "65536", "--log-max-files=2"});
  auto o = parseShimArgs(args);
  ASSERT_TRUE(o) << o.error().str();
  EXPECT_TRUE(o->tty);
  EXPECT_TRUE(o->openStdin);
  EXPECT_EQ(o->reportFd, 3);
  EXPECT_EQ(o->logMaxSize, 65536u);
  EXPECT_EQ(o->logMaxFiles, 2u);
}

TEST(ShimOptions, RoundTripsThroughToArgv) {
  ShimOptions o;
  o.id = "db-1";
  o.bundle = "/bundles/db 1";
  o.stateRoot = "/run/berth/runtime";
  o.dir = "/var/lib/berth/containers/db-1";
  o.tty = true;
  o.reportFd = 7;
  o.logMaxFiles = 9;
  o.seccompCacheDir = "/run/berth/seccomp-cache";
  auto back = parseShimArgs(toArgv(o));
  ASSERT_TRUE(back) << back.error().str();
  EXPECT_EQ(back->id, o.id);
  EXPECT_EQ(back->bundle, o.bundle);
  EXPECT_EQ(back->stateRoot, o.stateRoot);
  EXPECT_EQ(back->dir, o.dir);
  EXPECT_TRUE(back->tty);
  EXPECT_FALSE(back->openStdin);
  EXPECT_EQ(back->reportFd, 7);
  EXPECT_EQ(back->seccompCacheDir, o.seccompCacheDir);
  EXPECT_EQ(back->logMaxSize, kDefaultLogMaxSize);
  EXPECT_EQ(back->logMaxFiles, 9u);
}

TEST(ShimOptions, RejectsMissingRequired) {
  for (const char* name : {"--id", "--bundle", "--state-root", "--dir"}) {
    auto args = required();
    for (size_t i = 0; i < args.size(); i += 2) {
      if (args[i] == name) {
        args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
        break;
      }
    }
    auto o = parseShimArgs(args);
    ASSERT_FALSE(o) << name;
    EXPECT_NE(o.error().what().find(name), std::string::npos) << o.error().what();
  }
}

TEST(ShimOptions, RejectsBadInput) {
  const std::vector<std::vector<std::string>> bad = {
      {"--bogus", "1"},           {"positional"},           {"--report-fd", "x"},
      {"--report-fd", "-1"},      {"--log-max-size", "10"},  {"--log-max-files", "0"},
      {"--log-max-files", "3x"},  {"--id"},                  {"--id="},
  };
  for (const auto& extra : bad) {
    auto args = required();
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_FALSE(parseShimArgs(args)) << extra[0];
  }
}

}  // namespace
}  // namespace berth::agent::shim
