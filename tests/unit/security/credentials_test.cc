// Unit tests for `exec --user` parsing and no_new_privs (no root needed).
#include "runtime/security/credentials.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>

#include "tests/unit/security/forked_child.h"

namespace berth::runtime::security {
namespace {

TEST(UserSpec, UidAndGid) {
  auto user = parseUserSpec("1000:100");
  ASSERT_TRUE(user.ok()) << user.error().str();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 100u);
}

TEST(UserSpec, MissingGidKeepsTheContainersUser) {
  config::User base;
  base.uid = 5;
  base.gid = 7;
  base.additionalGids = {10, 11};
  base.umask = 022;
  auto user = parseUserSpec("1000", base);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 7u);
  EXPECT_EQ(user->additionalGids, (std::vector<uint32_t>{10, 11}));
  EXPECT_EQ(user->umask, 022u);
}

TEST(UserSpec, OnlyNumbersAreAccepted) {
  for (const char* bad : {"", ":", "root", "1000:", ":1000", "1000:wheel", "-1", "1000:-1", "10 00",
                          "4294967295", "4294967296", "1000:1000:1000"}) {
    auto user = parseUserSpec(bad);
    EXPECT_FALSE(user.ok()) << "accepted \"" << bad << "\"";
    if (!user.ok()) {
      EXPECT_NE(user.error().str().find("invalid user"), std::string::npos);
    }
  }
  EXPECT_TRUE(parseUserSpec("0:0").ok());
  EXPECT_EQ(parseUserSpec("4294967294")->uid, 4294967294u);
}

TEST(NoNewPrivileges, SetInTheChild) {
  auto child = testing::ForkedChild::run([] {
    if (!setNoNewPrivilegesInChild()) return 1;
    return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 3;
  });
  auto status = child.wait();
  EXPECT_TRUE(status.exited && status.code == 0) << testing::describe(status);
}

}  // namespace
}  // namespace berth::runtime::security
