// Signal parsing accepts what runc and crun accept for `kill`.
#include "runtime/linux/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace berth::runtime {
namespace {

TEST(ParseSignal, NamesWithAndWithoutPrefixAndNumbers) {
  EXPECT_EQ(*parseSignal("TERM"), SIGTERM);
  EXPECT_EQ(*parseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(*parseSignal("sigkill"), SIGKILL);
  EXPECT_EQ(*parseSignal("15"), SIGTERM);
  EXPECT_EQ(*parseSignal("RTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(*parseSignal("SIGRTMAX"), SIGRTMAX);
}

TEST(ParseSignal, RejectsNonsense) {
  EXPECT_FALSE(parseSignal(""));
  EXPECT_FALSE(parseSignal("0"));
  EXPECT_FALSE(parseSignal("-9"));
  EXPECT_FALSE(parseSignal("999"));
  EXPECT_FALSE(parseSignal("SIGFOO"));
  EXPECT_FALSE(parseSignal("RTMIN+999"));
  auto r = parseSignal("BOGUS");
  EXPECT_EQ(r.error().str(), "unknown signal \"BOGUS\"");
}

TEST(SignalName, RoundTrips) {
  EXPECT_EQ(signalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(*parseSignal(signalName(SIGRTMIN + 5)), SIGRTMIN + 5);
}

}  // namespace
}  // namespace berth::runtime
