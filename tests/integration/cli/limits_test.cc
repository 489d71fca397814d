// Resource limits from linux.resources, checked by their effect on a
// process that exceeds them (cgroup v1 on this host).
#include <csignal>

#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

class LimitsTest : public RuntimeTest {};

TEST_F(LimitsTest, MemoryHogIsKilled) {
  constexpr int64_t k32MiB = 32 << 20;
  // memory+swap equal to memory: the hog cannot escape into swap.
  config()["linux"]["resources"]["memory"] = {{"limit", k32MiB}, {"swap", k32MiB}};
  // dd allocates its 128 MiB block and fills it from /dev/zero.
  setArgs({"dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"});
  auto r = runContainer({.timeout = 30s});
  EXPECT_EQ(r.exitCode, 128 + SIGKILL) << "the OOM killer ends the hog; " << r.describe();
}

TEST_F(LimitsTest, MemoryWithinLimitSucceeds) {
  constexpr int64_t k64MiB = 64 << 20;
  config()["linux"]["resources"]["memory"] = {{"limit", k64MiB}, {"swap", k64MiB}};
  setArgs({"dd", "if=/dev/zero", "of=/dev/null", "bs=8M", "count=1"});
  auto r = runContainer();
  EXPECT_EQ(r.exitCode, 0) << r.describe();
}

TEST_F(LimitsTest, PidsLimitMakesForksFailButContainerSurvives) {
  config()["linux"]["resources"]["pids"] = {{"limit", 8}};
  // A child shell forks twelve background sleeps: the forks past the limit
  // fail and end that shell (ash gives up on "can't fork"); pid 1 goes on and
  // reports. Its exit ends the pid namespace, and with it the sleeps.
  setShell("sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 30 & done'; echo survived");
  auto r = runContainer();
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.out, "survived\n") << r.describe();
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace berth::tests::cli
