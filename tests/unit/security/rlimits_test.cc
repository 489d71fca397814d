// Unit tests for rlimit parsing and application (in a forked child).
#include "runtime/security/rlimits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "tests/unit/security/forked_child.h"

namespace berth::runtime::security {
namespace {

TEST(Rlimits, NamesResolveToResources) {
  auto prepared = prepareRlimits({{"RLIMIT_NOFILE", 2048, 1024},
                                  {"RLIMIT_CORE", 0, 0},
                                  {"RLIMIT_RTTIME", RLIM_INFINITY, RLIM_INFINITY}});
  ASSERT_TRUE(prepared.ok()) << prepared.error().str();
  ASSERT_EQ(prepared->size(), 3u);
  EXPECT_EQ((*prepared)[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ((*prepared)[0].limit.rlim_cur, 1024u);
  EXPECT_EQ((*prepared)[0].limit.rlim_max, 2048u);
  EXPECT_EQ((*prepared)[1].resource, RLIMIT_CORE);
  EXPECT_EQ((*prepared)[2].limit.rlim_max, RLIM_INFINITY);
  EXPECT_STREQ(rlimitName(RLIMIT_MEMLOCK), "RLIMIT_MEMLOCK");
}

TEST(Rlimits, UnknownTypeIsAnErrorNamingIt) {
  auto prepared = prepareRlimits({{"RLIMIT_NOFILE", 10, 10}, {"RLIMIT_FOO", 1, 1}});
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().str(), "process.rlimits[1]: unknown rlimit type \"RLIMIT_FOO\"");
  EXPECT_FALSE(prepareRlimits({{"nofile", 10, 10}}).ok());
}

TEST(Rlimits, SoftAboveHardAndDuplicatesAreRejected) {
  auto inverted = prepareRlimits({{"RLIMIT_NOFILE", 10, 20}});
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.error().str().find("soft limit 20 exceeds hard limit 10"), std::string::npos);
  auto duplicate = prepareRlimits({{"RLIMIT_NOFILE", 10, 10}, {"RLIMIT_NOFILE", 20, 20}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().str().find("duplicate"), std::string::npos);
}

TEST(Rlimits, AppliedInTheChild) {
  auto prepared = prepareRlimits({{"RLIMIT_NOFILE", 64, 32}, {"RLIMIT_FSIZE", 4096, 1024}});
  ASSERT_TRUE(prepared.ok());
  auto child = testing::ForkedChild::run([&] {
    if (!applyRlimitsInChild(*prepared)) return 1;
    rlimit nofile{}, fsize{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    ::getrlimit(RLIMIT_FSIZE, &fsize);
    if (nofile.rlim_cur != 32 || nofile.rlim_max != 64) return 2;
    if (fsize.rlim_cur != 1024 || fsize.rlim_max != 4096) return 3;
    return 0;
  });
  auto status = child.wait();
  EXPECT_TRUE(status.exited && status.code == 0) << testing::describe(status);
}

TEST(Rlimits, ApplyErrorNamesTheLimit) {
  // soft > hard slips past only when built by hand; setrlimit says EINVAL.
  PreparedRlimit bad{RLIMIT_NOFILE, {100, 10}};
  auto child = testing::ForkedChild::run([&] {
    auto result = applyRlimitsInChild({&bad, 1});
    return !result && result.error().code() == EINVAL &&
                   result.error().what() == "setrlimit RLIMIT_NOFILE"
               ? 0
               : 1;
  });
  auto status = child.wait();
  EXPECT_TRUE(status.exited && status.code == 0) << testing::describe(status);
}

}  // namespace
}  // namespace berth::runtime::security
