// Sizes, CPU counts, durations, times, integers, restart policies and the
// human forms of sizes and ages.
#include "agent/cli/units.h"

#include <gtest/gtest.h>

namespace berth::agent::cli {
namespace {

TEST(ParseSize, AcceptsDockerForms) {
  EXPECT_EQ(*parseSize("1024"), 1024);
  EXPECT_EQ(*parseSize("100k"), 100 * 1024);
  EXPECT_EQ(*parseSize("512m"), 512LL << 20);
  EXPECT_EQ(*parseSize("512M"), 512LL << 20);
  EXPECT_EQ(*parseSize("1g"), 1LL << 30);
  EXPECT_EQ(*parseSize("1.5G"), (3LL << 30) / 2);
  EXPECT_EQ(*parseSize("2gb"), 2LL << 30);
  EXPECT_EQ(*parseSize("1GiB"), 1LL << 30);
  EXPECT_EQ(*parseSize("10b"), 10);
  EXPECT_EQ(*parseSize("0"), 0);
}

TEST(ParseSize, RejectsNonsense) {
  for (const char* bad : {"", "m", "-1m", "12x", "1.5.5g", "1gg", "99999999999999999999"}) {
    auto r = parseSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().what().find("invalid size"), std::string::npos);
  }
}

TEST(ParseNanoCpus, IsExactDecimal) {
  EXPECT_EQ(*parseNanoCpus("1.5"), 1'500'000'000u);
  EXPECT_EQ(*parseNanoCpus("2"), 2'000'000'000u);
  EXPECT_EQ(*parseNanoCpus("0.1"), 100'000'000u);
  EXPECT_EQ(*parseNanoCpus("0.000000001"), 1u);
  EXPECT_EQ(*parseNanoCpus(".5"), 500'000'000u);
  EXPECT_FALSE(parseNanoCpus("0.0000000001").ok());
  EXPECT_FALSE(parseNanoCpus("-1").ok());
  EXPECT_FALSE(parseNanoCpus("1.5x").ok());
  EXPECT_FALSE(parseNanoCpus("").ok());
}

TEST(ParseDuration, GoForms) {
  constexpr int64_t s = 1'000'000'000;
  EXPECT_EQ(*parseDurationNs("10m"), 600 * s);
  EXPECT_EQ(*parseDurationNs("1h30m"), 5400 * s);
  EXPECT_EQ(*parseDurationNs("1.5s"), s + s / 2);
  EXPECT_EQ(*parseDurationNs("500ms"), s / 2);
  EXPECT_EQ(*parseDurationNs("2us"), 2000);
  EXPECT_EQ(*parseDurationNs("7ns"), 7);
  EXPECT_EQ(*parseDurationNs("0"), 0);
  for (const char* bad : {"", "10", "5d", "m", "-1s", "1h-1m"}) {
    EXPECT_FALSE(parseDurationNs(bad).ok()) << bad;
  }
}

TEST(ParseTimeArg, Rfc3339UnixAndRelative) {
  constexpr int64_t s = 1'000'000'000;
  const int64_t now = 1'700'000'000 * s;
  EXPECT_EQ(*parseTimeArg("2023-11-14T22:13:20Z", now), 1'700'000'000 * s);
  EXPECT_EQ(*parseTimeArg("2023-11-14T22:13:20.5Z", now), 1'700'000'000 * s + s / 2);
  EXPECT_EQ(*parseTimeArg("2023-11-15T00:13:20+02:00", now), 1'700'000'000 * s);
  EXPECT_EQ(*parseTimeArg("2023-11-14T22:13:20", now), 1'700'000'000 * s);
  EXPECT_EQ(*parseTimeArg("2023-11-14", now), (1'700'000'000 - 80000) * s);
  EXPECT_EQ(*parseTimeArg("1700000000", now), 1'700'000'000 * s);
  EXPECT_EQ(*parseTimeArg("1700000000.25", now), 1'700'000'000 * s + s / 4);
  EXPECT_EQ(*parseTimeArg("10m", now), now - 600 * s);
  for (const char* bad :
       {"", "yesterday", "2023-13-45T99:00:00Z", "2023-11-14T22:13Z", "2023-11-14T22:13:20+2"}) {
    EXPECT_FALSE(parseTimeArg(bad, now).ok()) << bad;
  }
}

TEST(ParseInteger, BoundsAndForm) {
  EXPECT_EQ(*parseInteger("-1", -1, 10), -1);
  EXPECT_EQ(*parseInteger("10", -1, 10), 10);
  EXPECT_FALSE(parseInteger("11", -1, 10).ok());
  EXPECT_FALSE(parseInteger("-2", -1, 10).ok());
  EXPECT_FALSE(parseInteger("1.0", 0, 10).ok());
  EXPECT_FALSE(parseInteger("", 0, 10).ok());
  EXPECT_FALSE(parseInteger("x", 0, 10).ok());
}

TEST(RestartPolicy, ParsesEveryForm) {
  EXPECT_EQ(parseRestartPolicy("no")->kind(), pb::RESTART_NO);
  EXPECT_EQ(parseRestartPolicy("always")->kind(), pb::RESTART_ALWAYS);
  EXPECT_EQ(parseRestartPolicy("unless-stopped")->kind(), pb::RESTART_UNLESS_STOPPED);
  auto onFailure = parseRestartPolicy("on-failure");
  EXPECT_EQ(onFailure->kind(), pb::RESTART_ON_FAILURE);
  EXPECT_EQ(onFailure->max_retries(), 0u);
  auto five = parseRestartPolicy("on-failure:5");
  EXPECT_EQ(five->kind(), pb::RESTART_ON_FAILURE);
  EXPECT_EQ(five->max_retries(), 5u);
  EXPECT_EQ(restartPolicyText(*five), "on-failure:5");
  EXPECT_EQ(restartPolicyText(*parseRestartPolicy("unless-stopped")), "unless-stopped");
  for (const char* bad :
       {"", "sometimes", "always:3", "on-failure:", "on-failure:-1", "on-failure:x"}) {
    EXPECT_FALSE(parseRestartPolicy(bad).ok()) << bad;
  }
}

TEST(HumanForms, SizesLikeDocker) {
  EXPECT_EQ(formatSizeDecimal(0), "0B");
  EXPECT_EQ(formatSizeDecimal(999), "999B");
  EXPECT_EQ(formatSizeDecimal(74'800'000), "74.8MB");
  EXPECT_EQ(formatSizeDecimal(1'500'000), "1.5MB");
  EXPECT_EQ(formatSizeBinary(512ull << 20), "512MiB");
  EXPECT_EQ(formatSizeBinary(1536ull << 10), "1.5MiB");
  EXPECT_EQ(formatSizeBinary(100), "100B");
}

TEST(HumanForms, DurationsLikeDocker) {
  constexpr int64_t s = 1'000'000'000;
  EXPECT_EQ(humanDuration(0), "Less than a second");
  EXPECT_EQ(humanDuration(1 * s), "1 second");
  EXPECT_EQ(humanDuration(45 * s), "45 seconds");
  EXPECT_EQ(humanDuration(90 * s), "About a minute");
  EXPECT_EQ(humanDuration(5 * 60 * s), "5 minutes");
  EXPECT_EQ(humanDuration(3600 * s), "About an hour");
  EXPECT_EQ(humanDuration(3 * 3600 * s), "3 hours");
  EXPECT_EQ(humanDuration(50 * 3600 * s), "2 days");
  EXPECT_EQ(humanDuration(20 * 24 * 3600 * s), "2 weeks");
  EXPECT_EQ(humanDuration(90LL * 24 * 3600 * s), "3 months");
  EXPECT_EQ(humanDuration(800LL * 24 * 3600 * s), "2 years");
  EXPECT_EQ(humanAgo(0, 10 * s), "N/A");
  EXPECT_EQ(humanAgo(s, 11 * s), "10 seconds ago");
}

TEST(HumanForms, ShortIdAndTime) {
  EXPECT_EQ(shortId("sha256:0123456789abcdef"), "0123456789ab");
  EXPECT_EQ(shortId("0123456789abcdef"), "0123456789ab");
  EXPECT_EQ(shortId("abc"), "abc");
  EXPECT_EQ(formatTime(0), "");
  EXPECT_EQ(formatTime(1'700'000'000'500'000'000), "2023-11-14T22:13:20.5Z");
}

}  // namespace
}  // namespace berth::agent::cli
