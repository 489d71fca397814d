// Unit tests for the container config builder: Docker's entrypoint/cmd
// matrix, env merging and env files, working directory, user resolution
// from the rootfs, capabilities, resources, annotations, and that the
// result is a valid config that survives serializeSpec/parseSpec.
#include "agent/engine/container_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "agent/engine/container_seccomp.h"
#include "runtime/config/parse.h"
#include "runtime/config/serialize.h"
#include "runtime/config/validate.h"
#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

using Args = std::vector<std::string>;
using runtime::config::Spec;

std::optional<Args> none() {
  return std::nullopt;
}

// A rootfs with Debian-like account files, removed after each test.
class ContainerSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-spec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    rootfs_ = tmpl;
    ASSERT_TRUE(sys::mkdirAll(rootfs_ + "/etc").ok());
    ASSERT_TRUE(sys::writeFileReplace(rootfs_ + "/etc/passwd",
                                      "root:x:0:0:root:/root:/bin/sh\n"
                                      "www:x:33:33:www:/var/www:/bin/false\n")
                    .ok());
    ASSERT_TRUE(
        sys::writeFileReplace(rootfs_ + "/etc/group", "root:x:0:\nwww:x:33:\nlog:x:4:www\n").ok());
    image_.config.cmd = Args{"sh"};
    options_.id = "0123456789abcdef0123";
    options_.imageName = "busybox:test";
  }
  void TearDown() override { (void)sys::removeAll(rootfs_); }

  Spec build() {
    auto spec = buildContainerSpec(image_, options_, rootfs_);
    EXPECT_TRUE(spec.ok()) << spec.error().str();
    return spec.ok() ? std::move(spec).value() : Spec{};
  }
  std::string buildError() {
    auto spec = buildContainerSpec(image_, options_, rootfs_);
    EXPECT_FALSE(spec.ok());
    return spec.ok() ? "" : spec.error().str();
  }

  std::string rootfs_;
  image::oci::ImageConfig image_;
  RunOptions options_;
};

TEST(ContainerArgs, DockerEntrypointCmdMatrix) {
  struct Case {
    const char* what;
    std::optional<Args> entrypoint, cmd;     // image
    std::optional<Args> entrypointOverride;  // --entrypoint
    Args args;                               // after the image name
    Args expected;
  };
  const Case cases[] = {
      {"cmd only", none(), Args{"sh"}, none(), {}, {"sh"}},
      {"cmd replaced by args", none(), Args{"sh"}, none(), {"ls", "-l"}, {"ls", "-l"}},
      {"entrypoint + cmd", Args{"/ep", "-x"}, Args{"a"}, none(), {}, {"/ep", "-x", "a"}},
      {"args replace cmd only", Args{"/ep"}, Args{"a"}, none(), {"b", "c"}, {"/ep", "b", "c"}},
      {"entrypoint only", Args{"/ep"}, none(), none(), {}, {"/ep"}},
      {"entrypoint, no cmd, args", Args{"/ep"}, none(), none(), {"b"}, {"/ep", "b"}},
      {"explicit empty entrypoint", Args{}, Args{"a"}, none(), {}, {"a"}},
      {"--entrypoint drops image cmd", Args{"/ep"}, Args{"a"}, Args{"/x"}, {}, {"/x"}},
      {"--entrypoint with args", Args{"/ep"}, Args{"a"}, Args{"/x"}, {"b"}, {"/x", "b"}},
      {"--entrypoint on cmd-only image", none(), Args{"a"}, Args{"/x"}, {}, {"/x"}},
      {"--entrypoint '' with args", Args{"/ep"}, Args{"a"}, Args{""}, {"b"}, {"b"}},
      {"--entrypoint '' alone", Args{"/ep"}, Args{"a"}, Args{""}, {}, {}},
      {"--entrypoint [] alone", Args{"/ep"}, Args{"a"}, Args{}, {}, {}},
      {"nothing at all", none(), none(), none(), {}, {}},
      {"shell-form cmd",
       none(),
       Args{"/bin/sh", "-c", "echo hi"},
       none(),
       {},
       {"/bin/sh", "-c", "echo hi"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    image::oci::ContainerConfig image;
    image.entrypoint = c.entrypoint;
    image.cmd = c.cmd;
    RunOptions options;
    options.entrypoint = c.entrypointOverride;
    options.cmd = c.args;
    EXPECT_EQ(containerArgs(image, options), c.expected);
  }
}

TEST_F(ContainerSpecTest, NoCommandIsAnError) {
  image_.config.cmd.reset();
  EXPECT_EQ(buildError(), "image busybox:test: no command specified");
  options_.entrypoint = Args{""};
  image_.config.cmd = Args{"sh"};
  EXPECT_EQ(buildError(), "image busybox:test: no command specified");
}

TEST(MergeEnv, LaterWinsInPlaceAndBareKeyUnsets) {
  std::vector<std::string> env = {"PATH=/bin", "A=1", "B=2", "C=3"};
  mergeEnv(env, {"B=two", "D=4", "A", "EMPTY=", "B=2b", "NOTSET"});
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "B=2b", "C=3", "D=4", "EMPTY="}));
  mergeEnv(env, {"X=a=b=c"});  // only the first '=' separates
  EXPECT_EQ(env.back(), "X=a=b=c");
}

TEST(ParseEnvFile, DockerFormat) {
  auto env = parseEnvFile("# comment\n\nA=1\n  B=with spaces  \nC=\"quoted\"\r\nUNSET\nD=x=y");
  ASSERT_TRUE(env.ok()) << env.error().str();
  EXPECT_EQ(*env,
            (std::vector<std::string>{"A=1", "B=with spaces  ", "C=\"quoted\"", "UNSET", "D=x=y"}));
  auto bad = parseEnvFile("A=1\nBAD NAME=2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().what(), "line 2: invalid variable name \"BAD NAME\"");
  EXPECT_FALSE(parseEnvFile("=novalue\n").ok());
}

TEST_F(ContainerSpecTest, EnvironmentOrderAndDefaults) {
  image_.config.env = {"PATH=/image/bin", "LANG=C.UTF-8", "KEEP=image", "DROP=me"};
  options_.envFile = "FROMFILE=1\nKEEP=file\n";
  options_.env = {"KEEP=cli", "DROP", "NEW=x"};
  options_.tty = true;
  Spec spec = build();
  EXPECT_EQ(spec.process->env, (std::vector<std::string>{"PATH=/image/bin", "HOSTNAME=0123456789ab",
                                                         "TERM=xterm", "LANG=C.UTF-8", "KEEP=cli",
                                                         "FROMFILE=1", "NEW=x", "HOME=/root"}));
  EXPECT_TRUE(spec.process->terminal);
}

TEST_F(ContainerSpecTest, DefaultPathAndHostnameAndUserHome) {
  options_.hostname = "web";
  options_.user = "www";
  Spec spec = build();
  EXPECT_EQ(spec.hostname, "web");
  EXPECT_EQ(spec.process->env,
            (std::vector<std::string>{kDefaultPath, "HOSTNAME=web", "HOME=/var/www"}));
  options_.env = {"HOME=/custom", "HOSTNAME=override"};
  spec = build();
  EXPECT_EQ(spec.process->env,
            (std::vector<std::string>{kDefaultPath, "HOSTNAME=override", "HOME=/custom"}));
  options_.envFile = "OK=1\nBAD NAME=1\n";
  EXPECT_EQ(buildError(),
            "image busybox:test: env file: line 2: invalid variable name \"BAD NAME\"");
}

TEST_F(ContainerSpecTest, WorkingDirectory) {
  EXPECT_EQ(build().process->cwd, "/");
  image_.config.workingDir = "/srv/app/";
  EXPECT_EQ(build().process->cwd, "/srv/app");
  options_.workdir = "/data//x/../y";
  EXPECT_EQ(build().process->cwd, "/data/y");
  options_.workdir = "relative";
  EXPECT_NE(buildError().find("working directory \"relative\" is invalid"), std::string::npos);
}

TEST_F(ContainerSpecTest, EnsureWorkingDirCreatesItInsideTheRoot) {
  // An absolute symlink in the image means a path inside the root, never the host's.
  ASSERT_TRUE(sys::mkdirAll(rootfs_ + "/inside").ok());
  const std::string hostPath = "/berth-spec-test-escape-" + std::to_string(::getpid());
  ASSERT_EQ(::symlink("/inside", (rootfs_ + "/srv").c_str()), 0);
  ASSERT_EQ(::symlink(hostPath.c_str(), (rootfs_ + "/dangling").c_str()), 0);
  options_.workdir = "/srv/app";
  Spec spec = build();
  auto made = ensureWorkingDir(spec, rootfs_);
  ASSERT_TRUE(made.ok()) << made.error().str();
  EXPECT_TRUE(sys::pathExists(rootfs_ + "/inside/app"));
  EXPECT_TRUE(ensureWorkingDir(spec, rootfs_).ok()) << "an existing directory is fine";

  // A dangling link to a host path: refused or created inside, never on the host.
  options_.workdir = "/dangling/app";
  spec = build();
  (void)ensureWorkingDir(spec, rootfs_);
  EXPECT_FALSE(sys::pathExists(hostPath));
}

TEST_F(ContainerSpecTest, UserFromImageAndOverride) {
  Spec spec = build();
  EXPECT_EQ(spec.process->user.uid, 0u);
  EXPECT_EQ(spec.process->user.additionalGids, (std::vector<uint32_t>{0}));
  image_.config.user = "www";
  spec = build();
  EXPECT_EQ(spec.process->user.uid, 33u);
  EXPECT_EQ(spec.process->user.gid, 33u);
  EXPECT_EQ(spec.process->user.additionalGids, (std::vector<uint32_t>{33, 4}));
  options_.user = "1500:1600";
  spec = build();
  EXPECT_EQ(spec.process->user.uid, 1500u);
  EXPECT_EQ(spec.process->user.gid, 1600u);
  options_.user = "ghost";
  EXPECT_EQ(buildError(),
            "image busybox:test: unable to find user ghost: no matching entries in passwd file: "
            "No such file or directory");
}

TEST_F(ContainerSpecTest, DockerDefaultCapabilitiesForEveryUser) {
  for (const char* user : {"root", "www"}) {
    options_.user = user;
    Spec spec = build();
    const auto& caps = *spec.process->capabilities;
    EXPECT_EQ(caps.bounding.size(), 14u);
    EXPECT_EQ(caps.effective, caps.bounding);
    EXPECT_EQ(caps.permitted, caps.bounding);
    EXPECT_TRUE(caps.inheritable.empty());
    EXPECT_TRUE(caps.ambient.empty());
    for (const char* cap : {"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_AUDIT_WRITE"}) {
      EXPECT_NE(std::find(caps.bounding.begin(), caps.bounding.end(), cap), caps.bounding.end());
    }
    for (const char* cap : {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE"}) {
      EXPECT_EQ(std::find(caps.bounding.begin(), caps.bounding.end(), cap), caps.bounding.end());
    }
    EXPECT_FALSE(spec.process->noNewPrivileges);
  }
}

TEST_F(ContainerSpecTest, Resources) {
  Spec spec = build();
  ASSERT_TRUE(spec.linux->resources);
  EXPECT_FALSE(spec.linux->resources->memory);
  EXPECT_FALSE(spec.linux->resources->cpu);
  EXPECT_FALSE(spec.linux->resources->pids);
  EXPECT_FALSE(spec.linux->resources->devices.front().allow);  // deny all first

  options_.memory = 256 << 20;
  options_.cpus = 1.5;
  options_.pidsLimit = 100;
  spec = build();
  EXPECT_EQ(spec.linux->resources->memory->limit, 256 << 20);
  EXPECT_EQ(spec.linux->resources->cpu->quota, 150000);
  EXPECT_EQ(spec.linux->resources->cpu->period, 100000u);
  EXPECT_EQ(spec.linux->resources->pids->limit, 100);

  options_.cpus = 0.5;
  options_.pidsLimit = -1;  // Docker: unlimited
  spec = build();
  EXPECT_EQ(spec.linux->resources->cpu->quota, 50000);
  EXPECT_FALSE(spec.linux->resources->pids);

  options_.cpus = 0.001;
  EXPECT_NE(buildError().find("cpus must be at least 0.01"), std::string::npos);
  options_.cpus = std::nullopt;
  options_.memory = 1024;
  EXPECT_NE(buildError().find("below the minimum of 6 MiB"), std::string::npos);
}

TEST_F(ContainerSpecTest, NamespacesMountsAndPaths) {
  options_.cgroupsPath = "/berth/c1";
  Spec spec = build();
  EXPECT_EQ(spec.linux->cgroupsPath, "/berth/c1");
  std::vector<std::string> types;
  for (const auto& ns : spec.linux->namespaces) {
    types.push_back(ns.type);
    EXPECT_TRUE(ns.path.empty()) << ns.type;
  }
  std::sort(types.begin(), types.end());
  EXPECT_EQ(types, (std::vector<std::string>{"cgroup", "ipc", "mount", "network", "pid", "uts"}));
  options_.networkNamespacePath = "/run/netns/x";
  spec = build();
  auto net = std::find_if(spec.linux->namespaces.begin(), spec.linux->namespaces.end(),
                          [](const auto& ns) { return ns.type == "network"; });
  EXPECT_EQ(net->path, "/run/netns/x");

  std::vector<std::string> destinations;
  for (const auto& m : spec.mounts) destinations.push_back(m.destination);
  EXPECT_EQ(destinations, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/sys",
                                                    "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"}));
  EXPECT_EQ(spec.root->path, rootfs_);
  EXPECT_FALSE(spec.root->readonly);
  EXPECT_NE(
      std::find(spec.linux->maskedPaths.begin(), spec.linux->maskedPaths.end(), "/proc/kcore"),
      spec.linux->maskedPaths.end());
  EXPECT_NE(
      std::find(spec.linux->readonlyPaths.begin(), spec.linux->readonlyPaths.end(), "/proc/sys"),
      spec.linux->readonlyPaths.end());
  options_.readOnlyRootfs = true;
  options_.rootfsPath = "rootfs";
  spec = build();
  EXPECT_TRUE(spec.root->readonly);
  EXPECT_EQ(spec.root->path, "rootfs");
}

TEST_F(ContainerSpecTest, Annotations) {
  Spec spec = build();
  EXPECT_EQ(spec.annotations.at("io.berth.stop-signal"), "SIGTERM");
  EXPECT_FALSE(spec.annotations.count("org.opencontainers.image.stopSignal"));
  image_.config.stopSignal = "SIGQUIT";
  image_.config.exposedPorts = {"443/tcp", "80/tcp"};
  options_.name = "web";
  options_.annotations = {{"com.example.team", "infra"}};
  spec = build();
  EXPECT_EQ(spec.annotations.at("io.berth.stop-signal"), "SIGQUIT");
  EXPECT_EQ(spec.annotations.at("org.opencontainers.image.stopSignal"), "SIGQUIT");
  EXPECT_EQ(spec.annotations.at("org.opencontainers.image.exposedPorts"), "443/tcp,80/tcp");
  EXPECT_EQ(spec.annotations.at("io.berth.name"), "web");
  EXPECT_EQ(spec.annotations.at("com.example.team"), "infra");
}

TEST_F(ContainerSpecTest, HostnameRules) {
  EXPECT_EQ(build().hostname, "0123456789ab");
  options_.hostname = std::string(65, 'h');
  EXPECT_NE(buildError().find("longer than 64"), std::string::npos);
  options_.hostname.clear();
  options_.id.clear();
  EXPECT_EQ(buildError(), "container id is empty");
}

TEST_F(ContainerSpecTest, SeccompProfileIsDockerLike) {
  Spec spec = build();
  ASSERT_TRUE(spec.linux->seccomp);
  const auto& profile = *spec.linux->seccomp;
  EXPECT_EQ(profile.defaultAction, "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile.defaultErrnoRet, 1u);  // EPERM
  auto rulesFor = [&](const std::string& name) {
    std::vector<const runtime::config::SeccompSyscall*> rules;
    for (const auto& rule : profile.syscalls) {
      if (std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end()) {
        rules.push_back(&rule);
      }
    }
    return rules;
  };
  for (const char* allowed : {"read", "execve", "openat", "socket", "futex", "setuid", "chroot"}) {
    auto rules = rulesFor(allowed);
    ASSERT_EQ(rules.size(), 1u) << allowed;
    EXPECT_EQ(rules[0]->action, "SCMP_ACT_ALLOW") << allowed;
    EXPECT_TRUE(rules[0]->args.empty()) << allowed;
  }
  for (const char* denied : {"mount", "umount2", "unshare", "setns", "pivot_root", "kexec_load",
                             "init_module", "bpf", "keyctl", "io_uring_setup", "reboot"}) {
    EXPECT_TRUE(rulesFor(denied).empty()) << denied << " must fall to the default (EPERM)";
  }
  auto clone = rulesFor("clone");
  ASSERT_EQ(clone.size(), 1u);
  EXPECT_EQ(clone[0]->args.at(0).op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone[0]->args.at(0).value, 0x7E020000u);
  EXPECT_EQ(clone[0]->args.at(0).valueTwo, 0u);
  auto clone3 = rulesFor("clone3");
  ASSERT_EQ(clone3.size(), 1u);
  EXPECT_EQ(clone3[0]->errnoRet, 38u);  // ENOSYS: glibc falls back to clone
  EXPECT_EQ(rulesFor("personality").size(), 5u);

  options_.seccomp = false;
  EXPECT_FALSE(build().linux->seccomp);
}

TEST_F(ContainerSpecTest, ResultIsValidAndRoundTrips) {
  image_.config.entrypoint = Args{"/docker-entrypoint.sh"};
  image_.config.env = {"A=\"quoted\" \\ back"};
  image_.config.stopSignal = "SIGQUIT";
  options_.user = "www";
  options_.memory = 64 << 20;
  options_.cpus = 2;
  options_.pidsLimit = 50;
  options_.tty = true;
  options_.cgroupsPath = "/berth-test/x";
  Spec spec = build();
  auto valid = runtime::config::validateSpec(spec);
  EXPECT_TRUE(valid.ok()) << valid.error().str();

  std::string json = runtime::config::serializeSpec(spec);
  auto back = runtime::config::parseSpec(json);
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(runtime::config::serializeSpec(*back), json);
  EXPECT_EQ(back->process->args, (Args{"/docker-entrypoint.sh", "sh"}));
  EXPECT_EQ(back->process->env, spec.process->env);
  EXPECT_EQ(back->linux->seccomp->syscalls.size(), spec.linux->seccomp->syscalls.size());
  EXPECT_TRUE(runtime::config::validateSpec(*back).ok());
}

}  // namespace
}  // namespace berth::agent::engine
