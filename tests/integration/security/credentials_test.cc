// Integration tests (root): the identity switch for real. A forked child
// switches user, groups and capabilities exactly as the container init does,
// then sends its /proc/self/status back over a pipe; the test checks each
// field the kernel reports.
#include "runtime/security/credentials.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "runtime/security/rlimits.h"
#include "runtime/security/seccomp.h"
#include "tests/unit/security/forked_child.h"

namespace berth::runtime::security {
namespace {

uint64_t bit(int cap) {
  return uint64_t{1} << cap;
}

struct Observed {
  std::map<std::string, std::string> status;  // /proc/self/status, "Key" -> "value"
  std::string error;                          // the child's Result error, if any
  std::string limits;                         // "soft hard" of RLIMIT_NOFILE
};

// Runs `setup` in a child, then reports /proc/self/status (or the error).
template <class Fn>
Observed observeChild(Fn setup) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {{}, "pipe failed"};
  sys::UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
  auto child = testing::ForkedChild::run([&] {
    readEnd.reset();
    sys::Result<void> result = setup();
    std::string report;
    if (!result) {
      report = "ERROR " + result.error().str();
    } else {
      char buf[8192];
      sys::UniqueFd status(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
      const ssize_t n = status ? ::read(status.get(), buf, sizeof buf) : -1;
      report = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "ERROR read /proc/self/status";
      rlimit nofile{};
      ::getrlimit(RLIMIT_NOFILE, &nofile);
      report += "BerthNofile:\t" + std::to_string(nofile.rlim_cur) + " " +
                std::to_string(nofile.rlim_max) + "\n";
    }
    return ::write(writeEnd.get(), report.data(), report.size()) ==
                   static_cast<ssize_t>(report.size())
               ? 0
               : 1;
  });
  writeEnd.reset();
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(readEnd.get(), buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<size_t>(n));
  auto exit = child.wait();
  Observed out;
  if (!(exit.exited && exit.code == 0)) out.error = "child " + testing::describe(exit);
  if (text.rfind("ERROR ", 0) == 0) {
    out.error = text.substr(6);
    return out;
  }
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t value = line.find_first_not_of(" \t", colon + 1);
    out.status[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  out.limits = out.status["BerthNofile"];
  return out;
}

std::string hex(uint64_t mask) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(mask));
  return buf;
}

class Credentials : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: switches uid/gid and capabilities";
  }
};

TEST_F(Credentials, SwitchesToAnUnprivilegedUserWithCapabilities) {
  config::Capabilities names;
  names.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"};
  names.permitted = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"};
  names.effective = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  names.inheritable = {"CAP_NET_BIND_SERVICE", "CAP_CHOWN"};
  names.ambient = {"CAP_NET_BIND_SERVICE", "CAP_KILL"};  // CAP_KILL not inheritable: ignored
  auto caps = prepareCapabilities(names);
  ASSERT_TRUE(caps.ok()) << caps.error().str();
  config::User user;
  user.uid = 1000;
  user.gid = 1000;
  user.additionalGids = {1001, 2000};
  user.umask = 027;

  Observed seen = observeChild([&]() -> sys::Result<void> {
    BERTH_TRY(setNoNewPrivilegesInChild());
    return switchUserInChild(user, *caps, /*setgroupsAllowed=*/true);
  });
  ASSERT_EQ(seen.error, "");
  EXPECT_EQ(seen.status["Uid"], "1000\t1000\t1000\t1000");
  EXPECT_EQ(seen.status["Gid"], "1000\t1000\t1000\t1000");
  EXPECT_EQ(seen.status["Groups"], "1001 2000 ");
  EXPECT_EQ(seen.status["CapBnd"],
            hex(bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE) | bit(CAP_SETUID)));
  EXPECT_EQ(seen.status["CapPrm"], hex(bit(CAP_CHOWN) | bit(CAP_NET_BIND_SERVICE) | bit(CAP_KILL)));
  EXPECT_EQ(seen.status["CapEff"], hex(bit(CAP_CHOWN) | bit(CAP_NET_BIND_SERVICE)));
  EXPECT_EQ(seen.status["CapInh"], hex(bit(CAP_NET_BIND_SERVICE) | bit(CAP_CHOWN)));
  EXPECT_EQ(seen.status["CapAmb"], hex(bit(CAP_NET_BIND_SERVICE)));
  EXPECT_EQ(seen.status["NoNewPrivs"], "1");
  EXPECT_EQ(seen.status["Umask"], "0027");
}

TEST_F(Credentials, AbsentCapabilitiesLeaveNone) {
  config::User user;  // stays root: only capabilities change
  Observed seen =
      observeChild([&] { return switchUserInChild(user, defaultCapabilitiesWhenAbsent(), true); });
  ASSERT_EQ(seen.error, "");
  EXPECT_EQ(seen.status["Uid"], "0\t0\t0\t0");
  EXPECT_EQ(seen.status["Groups"], "");
  for (const char* set : {"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"}) {
    EXPECT_EQ(seen.status[set], hex(0)) << set;
  }
  EXPECT_EQ(seen.status["NoNewPrivs"], "0");
}

TEST_F(Credentials, SetgroupsDeniedKeepsGroups) {
  // In a user namespace with setgroups "deny" setgroups(2) fails; the init
  // then skips it. Here that shows as the groups being left alone.
  std::string before;
  {
    Observed parent = observeChild([] { return sys::ok(); });
    before = parent.status["Groups"];
  }
  config::User user;
  user.uid = 1000;
  user.gid = 1000;
  user.additionalGids = {4242};
  Observed seen = observeChild(
      [&] { return switchUserInChild(user, CapabilitySets{}, /*setgroupsAllowed=*/false); });
  ASSERT_EQ(seen.error, "");
  EXPECT_EQ(seen.status["Groups"], before);
  EXPECT_EQ(seen.status["Gid"], "1000\t1000\t1000\t1000");
}

TEST_F(Credentials, EffectiveOutsidePermittedIsAnError) {
  CapabilitySets caps;
  caps.bounding = caps.permitted = bit(CAP_CHOWN);
  caps.effective = bit(CAP_CHOWN) | bit(CAP_KILL);
  Observed seen = observeChild([&] {
    return switchUserInChild(config::User{1000, 1000}, caps, true);
  });
  EXPECT_NE(seen.error.find("capset"), std::string::npos) << seen.error;
  EXPECT_NE(seen.error.find("Operation not permitted"), std::string::npos) << seen.error;
}

TEST_F(Credentials, RlimitsRaisedBeforeTheDropAndSeccompBeforeTheSwitchWithoutNnp) {
  // runc's order without no_new_privs: rlimits, seccomp (needs CAP_SYS_ADMIN), user switch.
  // Raising the hard limit needs CAP_SYS_RESOURCE, which some sandboxes
  // withhold even from root; then the limit is only re-applied.
  rlimit current{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &current), 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  ASSERT_EQ(::syscall(SYS_capget, &header, data), 0);
  const bool canRaise = data[0].effective & (1U << CAP_SYS_RESOURCE);
  const uint64_t hard = current.rlim_max + (canRaise ? 1 : 0);
  auto rlimits = prepareRlimits({{"RLIMIT_NOFILE", hard, hard}});
  ASSERT_TRUE(rlimits.ok());
  config::Seccomp profile;
  profile.defaultAction = "SCMP_ACT_ALLOW";
  profile.syscalls.push_back({{"mkdir"}, "SCMP_ACT_ERRNO", EXDEV, {}});
  auto program = compileSeccomp(profile);
  ASSERT_TRUE(program.ok()) << program.error().str();
  Observed seen = observeChild([&]() -> sys::Result<void> {
    BERTH_TRY(applyRlimitsInChild(*rlimits));
    BERTH_TRY(loadSeccompInChild(*program));
    BERTH_TRY(switchUserInChild(config::User{1000, 1000}, CapabilitySets{}, true));
    if (::mkdir("/tmp/berth-never-created", 0700) == 0 || errno != EXDEV) {
      return sys::Error::invalid("mkdir was not filtered");
    }
    return sys::ok();
  });
  ASSERT_EQ(seen.error, "");
  EXPECT_EQ(seen.status["Seccomp"], "2");
  EXPECT_EQ(seen.status["NoNewPrivs"], "0");
  EXPECT_EQ(seen.status["CapEff"], hex(0));
  EXPECT_EQ(seen.limits, std::to_string(hard) + " " + std::to_string(hard));
}

}  // namespace
}  // namespace berth::runtime::security
