// The health check flags of berth run/create (--health-*, --no-healthcheck)
// and the HealthCheck that reaches berthd: agent/cli/container_options.h.
#include <gtest/gtest.h>

#include "agent/cli/commands.h"
#include "agent/cli/container_options.h"

namespace berth::agent::cli {
namespace {

sys::Result<pb::ContainerSpec> specOf(const std::vector<std::string>& args) {
  auto parsed = BERTH_TRY(parseArgs(args, containerFlags(), {.stopAtFirstPositional = true}));
  return buildContainerSpec(parsed, Io());
}

TEST(HealthOptions, CommandAndTimings) {
  auto spec = specOf({"--health-cmd", "wget -q -O- localhost || exit 1", "--health-interval",
                      "200ms", "--health-timeout=1s", "--health-start-period", "1m30s",
                      "--health-retries", "5", "img"});
  ASSERT_TRUE(spec) << spec.error().str();
  ASSERT_TRUE(spec->has_healthcheck());
  const pb::HealthCheck& h = spec->healthcheck();
  ASSERT_EQ(h.test_size(), 2);
  EXPECT_EQ(h.test(0), "CMD-SHELL");
  EXPECT_EQ(h.test(1), "wget -q -O- localhost || exit 1");
  EXPECT_EQ(h.interval_ms(), 200u);
  EXPECT_EQ(h.timeout_ms(), 1000u);
  EXPECT_EQ(h.start_period_ms(), 90000u);
  EXPECT_EQ(h.retries(), 5u);
}

TEST(HealthOptions, NoneUnlessAsked) {
  auto spec = specOf({"img"});
  ASSERT_TRUE(spec);
  EXPECT_FALSE(spec->has_healthcheck());
}

TEST(HealthOptions, TimingsAloneTuneTheImageCheck) {
  auto spec = specOf({"--health-interval", "2s", "img"});
  ASSERT_TRUE(spec) << spec.error().str();
  EXPECT_EQ(spec->healthcheck().test_size(), 0);
  EXPECT_EQ(spec->healthcheck().interval_ms(), 2000u);
}

TEST(HealthOptions, NoHealthcheckSendsNone) {
  auto spec = specOf({"--no-healthcheck", "img"});
  ASSERT_TRUE(spec) << spec.error().str();
  ASSERT_EQ(spec->healthcheck().test_size(), 1);
  EXPECT_EQ(spec->healthcheck().test(0), "NONE");
}

TEST(HealthOptions, Errors) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {{"--no-healthcheck", "--health-cmd", "true", "img"}, "conflicts"},
           {{"--health-interval", "soon", "img"}, "--health-interval"},
           {{"--health-timeout", "0s", "img"}, "at least 1ms"},
           {{"--health-retries", "-1", "img"}, "--health-retries"},
           {{"--health-cmd", "", "img"}, "empty command"},
       }) {
    auto spec = specOf(c.args);
    ASSERT_FALSE(spec) << c.args[0];
    EXPECT_NE(spec.error().str().find(c.says), std::string::npos) << spec.error().str();
  }
}

}  // namespace
}  // namespace berth::agent::cli
