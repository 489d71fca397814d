// Namespace planning: which namespaces are new, which are joined by path
// (opened up front so a bad path fails before anything exists), and the
// order they are joined in.
#include "runtime/container/namespaces.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>

#include "tests/unit/container/testutil.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::runtime::container {
namespace {

using ::testing::HasSubstr;

struct NsType {
  const char* specName;
  int flag;
  const char* procName;
};
constexpr NsType kTypes[] = {
    {"pid", CLONE_NEWPID, "pid"},          {"network", CLONE_NEWNET, "net"},
    {"mount", CLONE_NEWNS, "mnt"},         {"ipc", CLONE_NEWIPC, "ipc"},
    {"uts", CLONE_NEWUTS, "uts"},          {"user", CLONE_NEWUSER, "user"},
    {"cgroup", CLONE_NEWCGROUP, "cgroup"}, {"time", CLONE_NEWTIME, "time"},
};

TEST(NamespaceNames, EverySpecTypeHasItsFlagAndProcEntry) {
  for (const auto& t : kTypes) {
    EXPECT_EQ(namespaceFlag(t.specName), t.flag) << t.specName;
    EXPECT_STREQ(namespaceProcName(t.flag), t.procName) << t.specName;
  }
}

TEST(NamespaceNames, UnknownTypesAreZeroAndEmpty) {
  EXPECT_EQ(namespaceFlag("net"), 0) << "the spec says \"network\"; \"net\" is only the proc name";
  EXPECT_EQ(namespaceFlag(""), 0);
  EXPECT_EQ(namespaceFlag("PID"), 0);
  EXPECT_STREQ(namespaceProcName(0), "");
  EXPECT_STREQ(namespaceProcName(CLONE_NEWPID | CLONE_NEWNET), "");
}

config::Spec specWith(std::vector<config::Namespace> namespaces) {
  config::Spec spec;
  spec.linux.emplace();
  spec.linux->namespaces = std::move(namespaces);
  return spec;
}

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

ino_t inodeOfFd(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

TEST(PlanNamespaces, NoLinuxSectionMeansNothingNew) {
  auto plan = planNamespaces(config::Spec{});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->newFlags, 0);
  EXPECT_TRUE(plan->joins.empty());
}

TEST(PlanNamespaces, NamespacesWithoutPathAreNew) {
  auto plan = planNamespaces(
      specWith({{"pid", ""}, {"network", ""}, {"mount", ""}, {"ipc", ""}, {"uts", ""}}));
  ASSERT_TRUE(plan.ok()) << plan.error().str();
  EXPECT_EQ(plan->newFlags,
            CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS);
  EXPECT_TRUE(plan->joins.empty());
  EXPECT_TRUE(plan->has(CLONE_NEWNET));
  EXPECT_FALSE(plan->has(CLONE_NEWUSER));
  EXPECT_FALSE(plan->has(CLONE_NEWCGROUP));
}

TEST(PlanNamespaces, APathIsJoinedThroughAnOpenFd) {
  auto plan = planNamespaces(specWith({{"pid", ""}, {"network", "/proc/self/ns/net"}}));
  ASSERT_TRUE(plan.ok()) << plan.error().str();
  EXPECT_EQ(plan->newFlags, CLONE_NEWPID);
  ASSERT_EQ(plan->joins.size(), 1u);
  EXPECT_EQ(plan->joins[0].flag, CLONE_NEWNET);
  ASSERT_TRUE(plan->joins[0].fd.valid());
  EXPECT_EQ(inodeOfFd(plan->joins[0].fd.get()), inodeOf("/proc/self/ns/net"))
      << "the fd is the namespace the path named";
  EXPECT_NE(::fcntl(plan->joins[0].fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_TRUE(plan->has(CLONE_NEWNET));
  EXPECT_TRUE(plan->has(CLONE_NEWPID));
}

TEST(PlanNamespaces, TheUserNamespaceIsJoinedFirstOthersKeepSpecOrder) {
  auto plan = planNamespaces(specWith({{"network", "/proc/self/ns/net"},
                                       {"ipc", "/proc/self/ns/ipc"},
                                       {"user", "/proc/self/ns/user"},
                                       {"uts", "/proc/self/ns/uts"}}));
  ASSERT_TRUE(plan.ok()) << plan.error().str();
  ASSERT_EQ(plan->joins.size(), 4u);
  EXPECT_EQ(plan->joins[0].flag, CLONE_NEWUSER);
  EXPECT_EQ(plan->joins[1].flag, CLONE_NEWNET);
  EXPECT_EQ(plan->joins[2].flag, CLONE_NEWIPC);
  EXPECT_EQ(plan->joins[3].flag, CLONE_NEWUTS);
  EXPECT_EQ(inodeOfFd(plan->joins[0].fd.get()), inodeOf("/proc/self/ns/user"));
  EXPECT_EQ(inodeOfFd(plan->joins[3].fd.get()), inodeOf("/proc/self/ns/uts"));
}

TEST(PlanNamespaces, AMissingPathFailsNamingTheEntry) {
  testing::TempDir tmp;
  std::string missing = tmp.file("no-such-netns");
  auto plan = planNamespaces(specWith({{"pid", ""}, {"network", missing}}));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), ENOENT);
  EXPECT_THAT(plan.error().str(), HasSubstr("linux.namespaces[1].path"));
  EXPECT_THAT(plan.error().str(), HasSubstr(missing));
}

TEST(PlanNamespaces, APathThatIsNotANamespaceFailsEarly) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeText(tmp.file("plain"), "not a namespace"));
  auto plan = planNamespaces(specWith({{"network", tmp.file("plain")}}));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.error().str(), HasSubstr("linux.namespaces[0].path"));
  EXPECT_THAT(plan.error().str(), HasSubstr("is not a namespace of type \"network\""));
}

TEST(PlanNamespaces, ANamespaceOfTheWrongTypeFailsEarly) {
  auto plan = planNamespaces(specWith({{"uts", ""}, {"ipc", "/proc/self/ns/net"}}));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(
      plan.error().str(),
      HasSubstr("linux.namespaces[1].path: /proc/self/ns/net is not a namespace of type \"ipc\""));
}

TEST(PlanNamespaces, AnUnknownTypeIsNamed) {
  auto plan = planNamespaces(specWith({{"pid", ""}, {"mount", ""}, {"bogus", ""}}));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.error().str(),
              HasSubstr("linux.namespaces[2].type: unknown namespace \"bogus\""));
}

}  // namespace
}  // namespace berth::runtime::container
