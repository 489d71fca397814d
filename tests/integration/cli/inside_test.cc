// The view from inside the container: each config.json field checked by
// what a process in the container observes (proc files, syscalls failing).
#include <linux/capability.h>

#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "runtime/sys/fs.h"
#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

class InsideTest : public RuntimeTest {
 protected:
  // Runs `script` in the container and expects it to succeed.
  std::string runShell(const std::string& script) {
    setShell(script);
    auto r = runContainer();
    EXPECT_EQ(r.exitCode, 0) << r.describe();
    return r.out;
  }
};

// The value of "Key:" in a /proc/<pid>/status text, whitespace-trimmed.
std::string statusField(const std::string& status, const std::string& key) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      std::string value = line.substr(key.size() + 1);
      auto first = value.find_first_not_of(" \t");
      auto last = value.find_last_not_of(" \t");
      return first == std::string::npos ? "" : value.substr(first, last - first + 1);
    }
  }
  return "<missing " + key + ">";
}

uint64_t capMask(const std::vector<std::string>& names) {
  static const std::map<std::string, int> kCaps = {{"CAP_CHOWN", CAP_CHOWN},
                                                   {"CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE},
                                                   {"CAP_KILL", CAP_KILL},
                                                   {"CAP_NET_BIND_SERVICE", CAP_NET_BIND_SERVICE},
                                                   {"CAP_SETUID", CAP_SETUID},
                                                   {"CAP_SETGID", CAP_SETGID},
                                                   {"CAP_AUDIT_WRITE", CAP_AUDIT_WRITE},
                                                   {"CAP_SYS_ADMIN", CAP_SYS_ADMIN}};
  uint64_t mask = 0;
  for (const auto& n : names) mask |= uint64_t{1} << kCaps.at(n);
  return mask;
}

uint64_t hexField(const std::string& status, const std::string& key) {
  return std::stoull(statusField(status, key), nullptr, 16);
}

// Like crun: a new network namespace has its loopback up, so 127.0.0.1
// works (IFF_UP = 0x1 in /sys/class/net/lo/flags; 0x8 is IFF_LOOPBACK).
TEST_F(InsideTest, LoopbackIsUpInANewNetworkNamespace) {
  EXPECT_EQ(runShell("cat /sys/class/net/lo/flags"), "0x9\n");
}

TEST_F(InsideTest, ProcessIsPidOne) {
  EXPECT_EQ(runShell("echo $$"), "1\n");
}

TEST_F(InsideTest, HostnameFromConfig) {
  config()["hostname"] = "cli-host-x";
  EXPECT_EQ(runShell("hostname"), "cli-host-x\n");
}

TEST_F(InsideTest, MountTableHasTheConfiguredMounts) {
  std::string mountinfo = runShell("cat /proc/self/mountinfo");
  auto points = mountPoints(mountinfo);
  std::set<std::string> have(points.begin(), points.end());
  for (const char* want :
       {"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/tmp", kCtlInside}) {
    EXPECT_TRUE(have.count(want)) << want << " not mounted; mountinfo:\n" << mountinfo;
  }
  // Nothing of the host leaks: the host's mount points outside the config are absent.
  EXPECT_FALSE(have.count("/work")) << mountinfo;
}

TEST_F(InsideTest, CapabilitySetsOfRootMatchConfig) {
  std::vector<std::string> caps = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                   "CAP_AUDIT_WRITE"};
  config()["process"]["capabilities"] = {{"bounding", caps},
                                         {"effective", caps},
                                         {"permitted", caps},
                                         {"inheritable", Json::array()},
                                         {"ambient", Json::array()}};
  std::string status = runShell("cat /proc/self/status");
  EXPECT_EQ(hexField(status, "CapBnd"), capMask(caps)) << status;
  EXPECT_EQ(hexField(status, "CapEff"), capMask(caps)) << status;
  EXPECT_EQ(hexField(status, "CapPrm"), capMask(caps)) << status;
  EXPECT_EQ(hexField(status, "CapInh"), 0u) << status;
  EXPECT_EQ(hexField(status, "CapAmb"), 0u) << status;
}

TEST_F(InsideTest, CapabilitySetsOfNonRootUserMatchConfig) {
  // A non-root process keeps after execve only its ambient set (permitted and
  // effective become the ambient set); inheritable and bounding pass unchanged.
  std::vector<std::string> bounding = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL",
                                       "CAP_NET_BIND_SERVICE", "CAP_SETUID"};
  std::vector<std::string> permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  std::vector<std::string> ambient = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  config()["process"]["capabilities"] = {{"bounding", bounding},
                                         {"effective", permitted},
                                         {"permitted", permitted},
                                         {"inheritable", ambient},
                                         {"ambient", ambient}};
  std::string status = runShell("cat /proc/self/status");
  EXPECT_EQ(hexField(status, "CapBnd"), capMask(bounding)) << status;
  EXPECT_EQ(hexField(status, "CapInh"), capMask(ambient)) << status;
  EXPECT_EQ(hexField(status, "CapAmb"), capMask(ambient)) << status;
  EXPECT_EQ(hexField(status, "CapPrm"), capMask(ambient)) << status;
  EXPECT_EQ(hexField(status, "CapEff"), capMask(ambient)) << status;
}

TEST_F(InsideTest, NoNewPrivileges) {
  config()["process"]["noNewPrivileges"] = true;
  EXPECT_EQ(statusField(runShell("cat /proc/self/status"), "NoNewPrivs"), "1");
}

TEST_F(InsideTest, PrivilegesCanBeGainedWithoutNoNewPrivileges) {
  config()["process"]["noNewPrivileges"] = false;
  EXPECT_EQ(statusField(runShell("cat /proc/self/status"), "NoNewPrivs"), "0");
}

TEST_F(InsideTest, SeccompProfileFiltersAndDenies) {
  // No errnoRet: the runtime-spec default for SCMP_ACT_ERRNO is EPERM.
  config()["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  setShell(
      "grep Seccomp: /proc/self/status; mkdir /tmp/denied; echo mkdir=$?; touch /tmp/ok && echo "
      "touch=ok");
  auto r = runContainer();
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("mkdir=1"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("touch=ok"), std::string::npos)
      << "only the listed syscalls are denied; " << r.describe();
}

TEST_F(InsideTest, MaskedPathsAreUnreadable) {
  // This kernel has no /proc/kcore; /proc/timer_list and /sys/firmware are
  // masked paths that exist and are non-empty on the host.
  ASSERT_FALSE(readFileOr("/proc/timer_list").empty()) << "precondition: host /proc/timer_list";
  config()["linux"]["maskedPaths"] = {"/proc/kcore", "/proc/timer_list", "/sys/firmware",
                                      "/proc/acpi"};
  // A masked file reads as empty (/dev/null over it) or cannot be opened; a
  // masked directory is empty.
  setShell("cat /proc/timer_list | wc -c; ls /sys/firmware | wc -l; ls /proc/acpi | wc -l");
  auto r = runContainer();
  EXPECT_EQ(r.out, "0\n0\n0\n") << r.describe();
}

TEST_F(InsideTest, ReadonlyPathsRefuseWrites) {
  // Writing the UTS-namespaced hostname back is harmless even if it worked.
  setShell("cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname");
  auto r = runContainer();
  EXPECT_NE(r.exitCode, 0) << r.describe();
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.describe();
}

TEST_F(InsideTest, ReadonlyRootfsRefusesWrites) {
  setShell("touch /written-by-test");
  auto r = runContainer();
  EXPECT_NE(r.exitCode, 0) << r.describe();
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.describe();
  EXPECT_FALSE(sys::pathExists(busyboxFixture().rootfs + "/written-by-test"));
}

TEST_F(InsideTest, EnvAndCwd) {
  config()["process"]["env"] = {"PATH=/bin:/usr/bin", "GREETING=hello world", "EMPTY="};
  config()["process"]["cwd"] = "/etc";
  EXPECT_EQ(runShell("echo \"$GREETING|${EMPTY-unset}|$PATH\"; pwd"),
            "hello world||/bin:/usr/bin\n/etc\n");
}

TEST_F(InsideTest, UserAndGroups) {
  config()["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}};
  std::string out = runShell("id; grep -E '^(Uid|Gid|Groups):' /proc/self/status");
  EXPECT_NE(out.find("uid=1000 gid=1001"), std::string::npos) << out;
  EXPECT_EQ(statusField(out, "Uid"), "1000\t1000\t1000\t1000") << out;
  EXPECT_EQ(statusField(out, "Gid"), "1001\t1001\t1001\t1001") << out;
  std::istringstream groups(statusField(out, "Groups"));
  std::set<int> have{std::istream_iterator<int>(groups), std::istream_iterator<int>()};
  EXPECT_EQ(have, (std::set<int>{10, 20})) << out;
}

TEST_F(InsideTest, Rlimits) {
  config()["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 321}, {"hard", 654}},
                                    {{"type", "RLIMIT_NPROC"}, {"soft", 77}, {"hard", 88}}};
  EXPECT_EQ(runShell("ulimit -n; ulimit -Hn; ulimit -u"), "321\n654\n77\n");
}

TEST_F(InsideTest, Umask) {
  config()["process"]["user"]["umask"] = 027;
  EXPECT_EQ(runShell("umask; touch /tmp/f; stat -c %a /tmp/f"), "0027\n640\n");
}

}  // namespace
}  // namespace berth::tests::cli
