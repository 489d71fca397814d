// The device cgroup rules a container gets: the spec's own rules, an allow
// for every linux.devices entry, then the defaults every container needs.
#include "runtime/container/cgroups.h"

#include <gtest/gtest.h>

#include <sstream>

namespace berth::runtime::container {
namespace {

std::string show(const config::DeviceCgroupRule& r) {
  std::ostringstream out;
  out << (r.allow ? "allow " : "deny ") << (r.type.empty() ? "a" : r.type) << " ";
  out << (r.major ? std::to_string(*r.major) : "*") << ":"
      << (r.minor ? std::to_string(*r.minor) : "*");
  out << " " << r.access;
  return out.str();
}

std::vector<std::string> showAll(const std::vector<config::DeviceCgroupRule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) out.push_back(show(r));
  return out;
}

const std::vector<std::string> kDefaults = {
    "allow c *:* m",   "allow b *:* m",   "allow c 1:3 rwm", "allow c 1:5 rwm", "allow c 1:7 rwm",
    "allow c 1:8 rwm", "allow c 1:9 rwm", "allow c 5:0 rwm", "allow c 5:2 rwm", "allow c 136:* rwm",
};

TEST(DeviceRules, WithoutLinuxOnlyTheDefaults) {
  EXPECT_EQ(showAll(deviceRules(config::Spec{})), kDefaults);
}

TEST(DeviceRules, SpecRulesThenDevicesThenDefaults) {
  config::Spec spec;
  spec.linux.emplace();
  spec.linux->resources.emplace();
  spec.linux->resources->devices = {
      {false, "a", std::nullopt, std::nullopt, "rwm"},
      {true, "c", 10, 200, "rw"},
  };
  config::Device fuse;
  fuse.type = "c";
  fuse.path = "/dev/fuse";
  fuse.major = 10;
  fuse.minor = 229;
  config::Device disk;
  disk.type = "b";
  disk.path = "/dev/sdz";
  disk.major = 8;
  disk.minor = 0;
  config::Device unbuffered;
  unbuffered.type = "u";  // an unbuffered char device is a char device to the cgroup
  unbuffered.path = "/dev/xu";
  unbuffered.major = 4;
  unbuffered.minor = 64;
  spec.linux->devices = {fuse, disk, unbuffered};

  std::vector<std::string> expected = {"deny a *:* rwm", "allow c 10:200 rw", "allow c 10:229 rwm",
                                       "allow b 8:0 rwm", "allow c 4:64 rwm"};
  expected.insert(expected.end(), kDefaults.begin(), kDefaults.end());
  EXPECT_EQ(showAll(deviceRules(spec)), expected);
}

TEST(DeviceRules, ADenyAllStillLeavesDevNullUsable) {
  // The defaults come last, and the last matching rule wins in the cgroup.
  config::Spec spec;
  spec.linux.emplace();
  spec.linux->resources.emplace();
  spec.linux->resources->devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}};
  auto rules = deviceRules(spec);
  ASSERT_FALSE(rules.empty());
  EXPECT_EQ(show(rules.front()), "deny a *:* rwm");
  bool devNullAfterDeny = false;
  for (size_t i = 1; i < rules.size(); ++i) {
    if (show(rules[i]) == "allow c 1:3 rwm") devNullAfterDeny = true;
  }
  EXPECT_TRUE(devNullAfterDeny);
}

TEST(DeviceRules, LinuxDevicesWithoutResources) {
  config::Spec spec;
  spec.linux.emplace();
  config::Device tun;
  tun.type = "c";
  tun.path = "/dev/net/tun";
  tun.major = 10;
  tun.minor = 200;
  spec.linux->devices = {tun};
  auto all = showAll(deviceRules(spec));
  ASSERT_EQ(all.size(), kDefaults.size() + 1);
  EXPECT_EQ(all.front(), "allow c 10:200 rwm");
}

}  // namespace
}  // namespace berth::runtime::container
