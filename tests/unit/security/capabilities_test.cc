// Unit tests for capability name parsing and set preparation.
#include "runtime/security/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace berth::runtime::security {
namespace {

uint64_t bit(int cap) {
  return uint64_t{1} << cap;
}

TEST(Capabilities, NamesMapToKernelNumbers) {
  EXPECT_EQ(*capabilityFromName("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(*capabilityFromName("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(*capabilityFromName("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
  EXPECT_EQ(*capabilityFromName("CAP_AUDIT_READ"), 37);
}

TEST(Capabilities, OnlyTheSpecSpellingIsAccepted) {
  EXPECT_FALSE(capabilityFromName("CAP_FOO").ok());
  EXPECT_FALSE(capabilityFromName("cap_chown").ok());
  EXPECT_FALSE(capabilityFromName("CHOWN").ok());
  EXPECT_FALSE(capabilityFromName("12").ok());
  EXPECT_FALSE(capabilityFromName("CAP_").ok());
  EXPECT_FALSE(capabilityFromName("").ok());
}

TEST(Capabilities, EachSetBecomesAMask) {
  config::Capabilities in;
  in.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  in.effective = {"CAP_KILL"};
  in.permitted = {"CAP_KILL", "CAP_CHOWN"};
  in.inheritable = {"CAP_CHOWN"};
  in.ambient = {"CAP_CHOWN", "CAP_CHOWN"};
  auto sets = prepareCapabilities(in);
  ASSERT_TRUE(sets.ok()) << sets.error().str();
  EXPECT_EQ(sets->bounding, bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(sets->effective, bit(CAP_KILL));
  EXPECT_EQ(sets->permitted, bit(CAP_KILL) | bit(CAP_CHOWN));
  EXPECT_EQ(sets->inheritable, bit(CAP_CHOWN));
  EXPECT_EQ(sets->ambient, bit(CAP_CHOWN));
}

TEST(Capabilities, UnknownNameIsAnErrorNamingItAndItsSet) {
  config::Capabilities in;
  in.bounding = {"CAP_CHOWN"};
  in.permitted = {"CAP_CHOWN", "CAP_FOO"};
  auto sets = prepareCapabilities(in);
  ASSERT_FALSE(sets.ok());
  EXPECT_EQ(sets.error().str(), "process.capabilities.permitted: unknown capability \"CAP_FOO\"");
}

TEST(Capabilities, AllKernelCapabilitiesFitTheMask) {
  const int last = lastKernelCapability();
  EXPECT_GE(last, CAP_AUDIT_READ);  // every kernel since 3.16
  EXPECT_LE(last, 63);
  config::Capabilities in;
  in.bounding = {"CAP_CHECKPOINT_RESTORE"};  // 40: skipped on kernels before 5.9
  auto sets = prepareCapabilities(in);
  ASSERT_TRUE(sets.ok());
  EXPECT_EQ(sets->bounding, last >= 40 ? bit(40) : 0);
}

TEST(Capabilities, AbsentCapabilitiesMeanNoneAsInRunc) {
  EXPECT_EQ(defaultCapabilitiesWhenAbsent(), CapabilitySets{});
  auto empty = prepareCapabilities(config::Capabilities{});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, CapabilitySets{});
}

}  // namespace
}  // namespace berth::runtime::security
