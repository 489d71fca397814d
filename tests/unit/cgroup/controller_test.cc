// Unit tests for the controller planners: which cgroup files get which values
// in which order, for cgroup v1 and v2, including the unit conversions.
#include "runtime/cgroup/controller.h"

#include <gtest/gtest.h>

namespace berth::runtime::cgroup {
namespace {

using Miss = Knob::IfMissing;

// "file=value" per knob, in order: compact to compare.
std::vector<std::string> lines(const KnobList& knobs) {
  std::vector<std::string> out;
  for (const auto& k : knobs) out.push_back(k.file + "=" + k.value);
  return out;
}

config::Resources memory(std::optional<int64_t> limit, std::optional<int64_t> swap) {
  config::Resources r;
  r.memory.emplace();
  r.memory->limit = limit;
  r.memory->swap = swap;
  return r;
}

TEST(Conversions, CpuSharesToWeightFollowsRunc) {
  EXPECT_EQ(cpuSharesToWeight(0), 0u);
  EXPECT_EQ(cpuSharesToWeight(2), 1u);
  EXPECT_EQ(cpuSharesToWeight(1024), 39u);
  EXPECT_EQ(cpuSharesToWeight(262144), 10000u);
  EXPECT_EQ(cpuSharesToWeight(1), 1u);  // clamped, no unsigned wrap-around
  EXPECT_EQ(cpuSharesToWeight(1u << 30), 10000u);
}

TEST(Conversions, BlkioWeightToIoWeight) {
  EXPECT_EQ(blkioWeightToIoWeight(10), 1u);
  EXPECT_EQ(blkioWeightToIoWeight(500), 4950u);
  EXPECT_EQ(blkioWeightToIoWeight(1000), 10000u);
  EXPECT_EQ(blkioWeightToIoWeight(0), 0u);
}

TEST(Conversions, SwapToV2SubtractsTheLimit) {
  EXPECT_EQ(*swapToV2(300, 100), 200);
  EXPECT_EQ(*swapToV2(100, 100), 0);
  EXPECT_EQ(*swapToV2(-1, 100), -1);
  EXPECT_EQ(*swapToV2(0, -1), -1);  // unlimited memory, swap unset: both unlimited
  EXPECT_EQ(*swapToV2(0, 100), 0);
  EXPECT_FALSE(swapToV2(300, 0));  // swap without a memory limit
  EXPECT_FALSE(swapToV2(300, -1));
  EXPECT_FALSE(swapToV2(50, 100));  // memory+swap below memory
  EXPECT_EQ(limitString(-1), "max");
  EXPECT_EQ(limitString(42), "42");
}

TEST(MemoryV1, LimitThenSwapOnAFreshCgroup) {
  auto plan = planV1(memory(100 << 20, 200 << 20));
  ASSERT_TRUE(plan) << plan.error().str();
  EXPECT_EQ(lines(*plan), (std::vector<std::string>{"memory.limit_in_bytes=104857600",
                                                    "memory.memsw.limit_in_bytes=209715200"}));
  EXPECT_EQ((*plan)[1].ifMissing, Miss::kFail);  // asked-for swap without swap accounting fails
}

TEST(MemoryV1, SwapFirstWhenRaisingAboveTheCurrentLimit) {
  auto plan = planV1(memory(300 << 20, 400 << 20), Current{100 << 20});
  ASSERT_TRUE(plan);
  EXPECT_EQ(lines(*plan), (std::vector<std::string>{"memory.memsw.limit_in_bytes=419430400",
                                                    "memory.limit_in_bytes=314572800"}));
  auto lower = planV1(memory(50 << 20, 60 << 20), Current{100 << 20});
  ASSERT_TRUE(lower);
  EXPECT_EQ((*lower)[0].file, "memory.limit_in_bytes");
}

TEST(MemoryV1, UnlimitedMemoryLiftsSwapToo) {
  auto plan = planV1(memory(-1, std::nullopt));
  ASSERT_TRUE(plan);
  EXPECT_EQ(lines(*plan), (std::vector<std::string>{"memory.memsw.limit_in_bytes=-1",
                                                    "memory.limit_in_bytes=-1"}));
  EXPECT_EQ((*plan)[0].ifMissing, Miss::kSkip);
}

TEST(MemoryV1, ReservationSwappinessOomKiller) {
  config::Resources r;
  r.memory.emplace();
  r.memory->reservation = 1 << 20;
  r.memory->swappiness = 10;
  r.memory->disableOOMKiller = true;
  r.memory->kernel = 1 << 20;  // deprecated: ignored
  auto plan = planV1(r);
  ASSERT_TRUE(plan);
  EXPECT_EQ(lines(*plan),
            (std::vector<std::string>{"memory.soft_limit_in_bytes=1048576", "memory.swappiness=10",
                                      "memory.oom_control=1"}));
  r.memory->swappiness = 101;
  EXPECT_FALSE(planV1(r));
}

TEST(MemoryV2, MaxSwapAndLow) {
  auto r = memory(100, 300);
  r.memory->reservation = 50;
  r.memory->swappiness = 60;  // no v2 file: ignored like runc
  auto plan = planV2(r);
  ASSERT_TRUE(plan) << plan.error().str();
  EXPECT_EQ(lines(*plan),
            (std::vector<std::string>{"memory.max=100", "memory.swap.max=200", "memory.low=50"}));
  EXPECT_EQ((*plan)[1].ifMissing, Miss::kFail);

  auto noSwap = planV2(memory(100, 100));
  ASSERT_TRUE(noSwap);
  EXPECT_EQ(lines(*noSwap), (std::vector<std::string>{"memory.max=100", "memory.swap.max=0"}));
  EXPECT_EQ((*noSwap)[1].ifMissing, Miss::kSkip);

  auto unlimited = planV2(memory(-1, std::nullopt));
  ASSERT_TRUE(unlimited);
  EXPECT_EQ(lines(*unlimited), (std::vector<std::string>{"memory.max=max", "memory.swap.max=max"}));

  auto bad = planV2(memory(100, 50));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("resources.memory"), std::string::npos);
}

TEST(MemoryV2, SwapAloneIsRelativeToTheCurrentLimit) {
  EXPECT_FALSE(planV2(memory(std::nullopt, 300)));
  auto plan = planV2(memory(std::nullopt, 300), Current{100});
  ASSERT_TRUE(plan) << plan.error().str();
  EXPECT_EQ(lines(*plan), std::vector<std::string>{"memory.swap.max=200"});
}

TEST(Cpu, V1WritesEveryKnobWithPeriodRetriedAfterQuota) {
  config::Resources r;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->realtimePeriod = 1000000;
  r.cpu->realtimeRuntime = 950000;
  r.cpu->idle = 1;
  auto plan = planV1(r);
  ASSERT_TRUE(plan);
  EXPECT_EQ(lines(*plan), (std::vector<std::string>{
                              "cpu.shares=512", "cpu.cfs_period_us=100000", "cpu.cfs_burst_us=1000",
                              "cpu.cfs_quota_us=50000", "cpu.rt_period_us=1000000",
                              "cpu.rt_runtime_us=950000", "cpu.idle=1"}));
  EXPECT_TRUE((*plan)[1].retryOnEinval);
  EXPECT_EQ((*plan)[2].ifMissing, Miss::kSkip);
}

TEST(Cpu, V2WeightMaxBurstIdle) {
  config::Resources r;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->idle = 0;
  auto plan = planV2(r);
  ASSERT_TRUE(plan);
  EXPECT_EQ(lines(*plan), (std::vector<std::string>{"cpu.weight=39", "cpu.max.burst=1000",
                                                    "cpu.max=50000 100000", "cpu.idle=0"}));
  r.cpu->quota = -1;
  r.cpu->burst.reset();
  r.cpu->shares.reset();
  r.cpu->idle.reset();
  EXPECT_EQ(lines(*planV2(r)), std::vector<std::string>{"cpu.max=max 100000"});
  r.cpu->period.reset();
  r.cpu->quota = 20000;
  EXPECT_EQ(lines(*planV2(r)), std::vector<std::string>{"cpu.max=20000"});
  r.cpu->realtimeRuntime = 1000;
  EXPECT_FALSE(planV2(r));
}

TEST(CpusetPids, SameFilesInBothVersions) {
  config::Resources r;
  r.cpu.emplace();
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 64;
  std::vector<std::string> want = {"cpuset.mems=0", "cpuset.cpus=0-1", "pids.max=64"};
  EXPECT_EQ(lines(*planV1(r)), want);
  EXPECT_EQ(lines(*planV2(r)), want);
  for (int64_t unlimited : {0, -1}) {
    r.pids->limit = unlimited;
    EXPECT_EQ(lines(*planV2(r)).back(), "pids.max=max");
  }
}

TEST(Blkio, V1WeightsAndThrottles) {
  config::Resources r;
  r.blockIO.emplace();
  r.blockIO->weight = 500;
  r.blockIO->weightDevice.push_back({8, 0, 300, std::nullopt});
  r.blockIO->throttleReadBpsDevice.push_back({8, 0, 1048576});
  r.blockIO->throttleWriteIOPSDevice.push_back({8, 16, 100});
  auto plan = planV1(r);
  ASSERT_TRUE(plan);
  EXPECT_EQ(lines(*plan),
            (std::vector<std::string>{"blkio.weight=500", "blkio.weight_device=8:0 300",
                                      "blkio.throttle.read_bps_device=8:0 1048576",
                                      "blkio.throttle.write_iops_device=8:16 100"}));
  EXPECT_EQ((*plan)[0].fallbackFile, "blkio.bfq.weight");
}

TEST(Blkio, V2IoMaxAndWeightWithFallback) {
  config::Resources r;
  r.blockIO.emplace();
  r.blockIO->weight = 500;
  r.blockIO->throttleReadBpsDevice.push_back({8, 0, 1048576});
  r.blockIO->throttleWriteBpsDevice.push_back({8, 0, 0});
  r.blockIO->throttleReadIOPSDevice.push_back({259, 1, 200});
  auto plan = planV2(r);
  ASSERT_TRUE(plan);
  EXPECT_EQ(lines(*plan),
            (std::vector<std::string>{"io.bfq.weight=500", "io.max=8:0 rbps=1048576",
                                      "io.max=8:0 wbps=max", "io.max=259:1 riops=200"}));
  EXPECT_EQ((*plan)[0].ifMissing, Miss::kFallback);
  EXPECT_EQ((*plan)[0].fallbackFile, "io.weight");
  EXPECT_EQ((*plan)[0].fallbackValue, "4950");
  EXPECT_EQ(v2ControllersFor(*plan), std::vector<std::string>{"io"});
}

TEST(Hugetlb, PageSizeNamesTheFile) {
  config::Resources r;
  r.hugepageLimits.push_back({"2MB", 4194304});
  auto v1 = planV1(r);
  ASSERT_TRUE(v1);
  EXPECT_EQ(lines(*v1), (std::vector<std::string>{"hugetlb.2MB.limit_in_bytes=4194304",
                                                  "hugetlb.2MB.rsvd.limit_in_bytes=4194304"}));
  auto v2 = planV2(r);
  ASSERT_TRUE(v2);
  EXPECT_EQ(lines(*v2),
            (std::vector<std::string>{"hugetlb.2MB.max=4194304", "hugetlb.2MB.rsvd.max=4194304"}));
  EXPECT_EQ((*v2)[1].ifMissing, Miss::kSkip);
  for (const char* bad : {"2M", "../x", "MB", "2MB/../../cgroup.procs", ""}) {
    r.hugepageLimits = {{bad, 1}};
    EXPECT_FALSE(planV1(r)) << bad;
    EXPECT_FALSE(planV2(r)) << bad;
  }
}

TEST(Network, V1OnlyAndIgnoredOnV2) {
  config::Resources r;
  r.network.emplace();
  r.network->classID = 0x100001;
  r.network->priorities = {{"eth0", 5}, {"lo", 1}};
  EXPECT_EQ(lines(*planV1(r)),
            (std::vector<std::string>{"net_cls.classid=1048577", "net_prio.ifpriomap=eth0 5",
                                      "net_prio.ifpriomap=lo 1"}));
  EXPECT_TRUE(planV2(r)->empty());
}

TEST(Unified, VerbatimLastOnV2AndAnErrorOnV1) {
  config::Resources r;
  r.pids.emplace();
  r.pids->limit = 10;
  r.unified = {{"pids.max", "20"}, {"memory.high", "1000000"}};
  auto v2 = planV2(r);
  ASSERT_TRUE(v2);
  EXPECT_EQ(lines(*v2),
            (std::vector<std::string>{"pids.max=10", "memory.high=1000000", "pids.max=20"}));
  EXPECT_EQ(v2ControllersFor(*v2), (std::vector<std::string>{"pids", "memory"}));
  auto v1 = planV1(r);
  ASSERT_FALSE(v1);
  EXPECT_NE(v1.error().what().find("memory.high"), std::string::npos);
  for (const char* bad : {"../cgroup.procs", "cgroup.procs", "a/b.c", "nodot", ".hidden"}) {
    r.unified = {{bad, "1"}};
    EXPECT_FALSE(planV2(r)) << bad;
  }
}

TEST(Plan, EmptyResourcesWriteNothing) {
  EXPECT_TRUE(planV1({})->empty());
  EXPECT_TRUE(planV2({})->empty());
  EXPECT_EQ(resourceControllers().size(), 8u);
}

}  // namespace
}  // namespace berth::runtime::cgroup
