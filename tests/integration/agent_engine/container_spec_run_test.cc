// Integration test (root): a config built by buildContainerSpec for the
// busybox rootfs of hack/mkbundle, written with serializeSpec, runs under the
// berth-runtime of this build tree, and the container sees the user, groups,
// environment, working directory and hostname the builder chose. The
// container gets its own network namespace and the cgroup /berth-test/<id>;
// everything (container, state, bundle) is removed at the end.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "agent/engine/container_spec.h"
#include "runtime/config/serialize.h"
#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

// Runs a shell command line and returns its exit code and combined output.
std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class ContainerSpecRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, mounts, cgroups)";
    runtime_ = std::string(BERTH_BUILD_DIR) + "/runtime/berth-runtime";
    if (::access(runtime_.c_str(), X_OK) != 0) GTEST_SKIP() << runtime_ << " is not built";
    char tmpl[] = "/tmp/berth-ocispec-run-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    id_ = "ocispec-" + std::to_string(::getpid());
    auto [code, out] = shell(std::string(BERTH_SOURCE_DIR) + "/hack/mkbundle " + dir_);
    ASSERT_EQ(code, 0) << out;
  }
  void TearDown() override {
    if (dir_.empty()) return;
    (void)shell(runtimeCommand() + " delete --force " + id_);
    (void)sys::removeAll(dir_);
  }
  std::string runtimeCommand() const {
    return "timeout 60 " + runtime_ + " --root " + dir_ + "/state";
  }

  std::string runtime_;
  std::string dir_;
  std::string id_;
};

TEST_F(ContainerSpecRun, BusyboxSeesUserEnvAndWorkdir) {
  image::oci::ImageConfig image;
  image.config.env = {"FROM_IMAGE=1", "OVERRIDDEN=image"};
  image.config.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  image.config.cmd = std::vector<std::string>{"exit 3"};
  image.config.user = "daemon";
  image.config.workingDir = "/var/log";

  RunOptions options;
  options.id = id_;
  options.imageName = "busybox:mkbundle";
  options.cgroupsPath = "/berth-test/" + id_;
  options.env = {"OVERRIDDEN=cli", "WITH_SPACE=a b"};
  options.cmd = {"id; echo ---; env; echo ---; pwd; hostname; cat /proc/self/status | grep CapEff"};
  options.memory = 64 << 20;
  options.cpus = 0.5;
  options.pidsLimit = 64;

  const std::string rootfs = dir_ + "/rootfs";
  auto spec = buildContainerSpec(image, options, rootfs);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  ASSERT_TRUE(ensureWorkingDir(*spec, rootfs).ok());
  auto written =
      sys::writeFileReplace(dir_ + "/config.json", runtime::config::serializeSpec(*spec));
  ASSERT_TRUE(written.ok()) << written.error().str();

  auto [code, out] = shell(runtimeCommand() + " run --bundle " + dir_ + " " + id_);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("uid=1(daemon) gid=1(daemon) groups=1(daemon)"), std::string::npos) << out;
  for (const std::string& line :
       {std::string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOSTNAME=" + id_.substr(0, 12), std::string("FROM_IMAGE=1"), std::string("OVERRIDDEN=cli"),
        std::string("WITH_SPACE=a b"), std::string("HOME=/usr/sbin")}) {
    EXPECT_NE(out.find("\n" + line + "\n"), std::string::npos) << line << " missing in:\n" << out;
  }
  EXPECT_EQ(out.find("OVERRIDDEN=image"), std::string::npos) << out;
  EXPECT_NE(out.find("---\n/var/log\n" + id_.substr(0, 12) + "\n"), std::string::npos) << out;
  // A non-root user keeps no effective capabilities after execve (no ambient set).
  EXPECT_NE(out.find("CapEff:\t0000000000000000"), std::string::npos) << out;
}

TEST_F(ContainerSpecRun, RootGetsDefaultCapabilitiesAndSeccompBlocksMount) {
  image::oci::ImageConfig image;
  image.config.cmd =
      std::vector<std::string>{"sh", "-c",
                               "grep CapEff /proc/self/status; mkdir -p /mnt/x; "
                               "mount -t tmpfs none /mnt/x && echo MOUNTED || echo MOUNT_DENIED; "
                               "unshare -n true && echo UNSHARED || echo UNSHARE_DENIED; id -u"};
  RunOptions options;
  options.id = id_;
  options.cgroupsPath = "/berth-test/" + id_;
  auto spec = buildContainerSpec(image, options, dir_ + "/rootfs");
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  ASSERT_TRUE(
      sys::writeFileReplace(dir_ + "/config.json", runtime::config::serializeSpec(*spec)).ok());

  auto [code, out] = shell(runtimeCommand() + " run --bundle " + dir_ + " " + id_);
  ASSERT_EQ(code, 0) << out;
  // Docker's 14 default capabilities: bits 0,1,3-8,10,13,18,27,29,31 = 0xa80425fb.
  EXPECT_NE(out.find("CapEff:\t00000000a80425fb"), std::string::npos) << out;
  EXPECT_NE(out.find("MOUNT_DENIED"), std::string::npos) << out;
  EXPECT_NE(out.find("UNSHARE_DENIED"), std::string::npos) << out;
  EXPECT_NE(out.find("\n0\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace berth::agent::engine
