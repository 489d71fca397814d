// Whole berth commands against a fake berthd in this process: what they
// print, where, and their exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_daemon.h"

namespace berth::agent::cli::testing {
namespace {

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class CliTest : public ::testing::Test {
 protected:
  CliRun berth(std::vector<std::string> args, CliOptions options = {}) {
    args.insert(args.begin(), {"--socket", daemon_.socketPath()});
    return runCli(args, options);
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(handler_.mutex);
    return handler_.calls;
  }

  FakeHandler handler_;
  FakeDaemon daemon_{handler_};
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ------------------------------------------------------------ reaching berthd

TEST(CliConnect, DaemonNotRunningSaysWhatToDo) {
  std::string path = "/tmp/berth-cli-none-" + std::to_string(::getpid()) + ".sock";
  CliRun r = runCli({"--socket", path, "ps"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "berth: ")) << r.err;
  EXPECT_TRUE(contains(r.err, path)) << r.err;
  EXPECT_TRUE(contains(r.err, "No such file or directory")) << r.err;
  EXPECT_TRUE(contains(r.err, "is berthd running?")) << r.err;
  // run reports an unreachable daemon as 125, like docker.
  EXPECT_EQ(runCli({"--socket", path, "run", "debian"}).code, 125);
}

TEST(CliConnect, SocketFromTheEnvironment) {
  FakeHandler handler;
  FakeDaemon daemon(handler);
  CliOptions options;
  options.env = {{"BERTH_SOCKET", daemon.socketPath()}};
  CliRun r = runCli({"ps"}, options);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "web"));
  // --socket wins over the environment.
  options.env = {{"BERTH_SOCKET", "/nonexistent/berthd.sock"}};
  EXPECT_EQ(runCli({"--socket", daemon.socketPath(), "ps"}, options).code, 0);
  EXPECT_EQ(runCli({"ps"}, options).code, 1);
}

TEST(CliConnect, VersionMismatchIsAClearError) {
  FakeHandler handler;
  api::ServerOptions server;
  server.protocolVersion = api::kProtocolVersion + 1;
  server.daemonVersion = "9.9.9";
  FakeDaemon daemon(handler, server);
  CliRun r = runCli({"--socket", daemon.socketPath(), "ps"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "berth: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "protocol")) << r.err;
  CliRun v = runCli({"--socket", daemon.socketPath(), "version"});
  EXPECT_EQ(v.code, 1);
  EXPECT_TRUE(contains(v.out, "Client:\n Version:   " BERTH_VERSION));
  EXPECT_FALSE(contains(v.out, "Daemon:"));
}

TEST_F(CliTest, VersionShowsBothSides) {
  CliRun r = berth({"version"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Client:\n Version:   " BERTH_VERSION "\n Protocol:  1\n"));
  EXPECT_TRUE(contains(r.out, "Daemon:\n Version:   " BERTH_VERSION "\n Protocol:  1\n"));
  auto j = nlohmann::json::parse(berth({"version", "--format", "json"}).out);
  EXPECT_EQ(j["daemon"]["protocol"], 1);
}

// ------------------------------------------------------------ usage

TEST_F(CliTest, UsageErrorsExit125WithAHint) {
  CliRun unknown = berth({"frobnicate"});
  EXPECT_EQ(unknown.code, 125);
  EXPECT_TRUE(contains(unknown.err, "'frobnicate' is not a berth command"));
  CliRun badFlag = berth({"ps", "--bogus"});
  EXPECT_EQ(badFlag.code, 125);
  EXPECT_TRUE(contains(badFlag.err, "unknown flag: --bogus"));
  EXPECT_TRUE(contains(badFlag.err, "See 'berth ps --help'"));
  CliRun noArgs = berth({"stop"});
  EXPECT_EQ(noArgs.code, 125);
  EXPECT_TRUE(contains(noArgs.err, "requires at least 1 argument"));
  EXPECT_EQ(berth({"run", "--memory", "lots", "img"}).code, 125);
  EXPECT_EQ(berth({"run", "--rm", "--restart", "always", "img"}).code, 125);
  EXPECT_EQ(berth({"ps", "--format", "yaml"}).code, 125);
  EXPECT_EQ(runCli({}).code, 125);
  EXPECT_TRUE(calls().empty());  // nothing reached the daemon
}

TEST_F(CliTest, HelpEverywhere) {
  CliRun top = berth({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_TRUE(contains(top.out, "Commands:"));
  EXPECT_FALSE(contains(top.out, "  images "));  // aliases stay hidden
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"run", "--help"}, {"image", "ls", "--help"}, {"logs", "-h"}, {"images", "--help"}}) {
    CliRun r = berth(args);
    EXPECT_EQ(r.code, 0) << args[0];
    EXPECT_TRUE(contains(r.out, "Usage:  berth ")) << r.out;
    EXPECT_TRUE(contains(r.out, "--help")) << r.out;
  }
  CliRun group = berth({"image"});
  EXPECT_EQ(group.code, 125);
  EXPECT_TRUE(contains(group.err, "image pull"));
}

// ------------------------------------------------------------ images

TEST_F(CliTest, ImagePullQuietWithoutATerminal) {
  CliRun r = berth({"pull", "--platform", "linux/arm64", "debian:12"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "docker.io/library/debian:12\n");  // no progress lines in a pipe
  EXPECT_EQ(calls().back(), "imagePull debian:12 linux/arm64");
  CliRun missing = berth({"image", "pull", "missing"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "berth: manifest unknown\n");
}

TEST_F(CliTest, ImageLsTableQuietAndJson) {
  CliRun table = berth({"images"}, {.nowNs = 1'700'000'000'000'000'000});
  EXPECT_EQ(table.code, 0);
  EXPECT_EQ(table.out,
            "REPOSITORY                 TAG   IMAGE ID       CREATED       SIZE\n"
            "docker.io/library/debian   12    aaaaaaaaaaaa   3 hours ago   74.8MB\n");
  EXPECT_EQ(berth({"image", "ls", "-aq"}).out, "aaaaaaaaaaaa\ndddddddddddd\n");
  auto j = nlohmann::json::parse(berth({"image", "ls", "--format", "json"}).out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["references"][0], "docker.io/library/debian:12");
  EXPECT_EQ(j[0]["size"], 74'800'000);
}

TEST_F(CliTest, ImageInspectRmPruneImport) {
  CliRun inspect = berth({"image", "inspect", "debian:12"});
  EXPECT_EQ(inspect.code, 0);
  auto j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j[0]["cmd"][0], "bash");
  CliRun missing = berth({"image", "inspect", "missing"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "berth: no such image: missing\n");

  CliRun rm = berth({"rmi", "-f", "debian:12", "used"});
  EXPECT_EQ(rm.code, 1);  // one of the two failed
  EXPECT_EQ(rm.out, "Untagged: debian:12\nDeleted: sha256:aaaa\n");
  EXPECT_TRUE(contains(rm.err, "image is used by container web"));
  EXPECT_TRUE(contains(calls()[calls().size() - 2], "imageRemove debian:12 force"));

  CliRun declined = berth({"image", "prune"}, {.stdinData = "n\n"});
  EXPECT_EQ(declined.code, 0);
  EXPECT_TRUE(contains(declined.out, "Are you sure you want to continue? [y/N]"));
  EXPECT_NE(calls().back(), "imagePrune");
  CliRun pruned = berth({"image", "prune", "-a", "-f"});
  EXPECT_EQ(pruned.code, 0);
  EXPECT_EQ(pruned.out, "Deleted Images:\ndeleted: sha256:dead\n\nTotal reclaimed space: 1.5MB\n");
  EXPECT_EQ(calls().back(), "imagePrune all");

  CliRun imported = berth({"image", "import", "/srv/app.tar", "app:1"});
  EXPECT_EQ(imported.out, "Loaded image: app:1\n");
  EXPECT_EQ(calls().back(), "imageImport /srv/app.tar app:1");
}

// ------------------------------------------------------------ containers

TEST_F(CliTest, RunDetachedPrintsTheFullId) {
  CliRun r =
      berth({"run", "-d", "--rm", "--name", "web", "-e", "HOME", "debian:12", "sleep", "100"},
            {.env = {{"HOME", "/home/me"}}});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, kId + "\n");
  EXPECT_EQ(calls().back(), "containerRun debian:12");
  std::lock_guard lock(handler_.mutex);
  EXPECT_TRUE(handler_.lastSpec.auto_remove());
  EXPECT_FALSE(handler_.lastSpec.has_restart());  // the daemon's default
  EXPECT_EQ(handler_.lastSpec.env(0), "HOME=/home/me");
  EXPECT_EQ(handler_.lastSpec.cmd(1), "100");
}

TEST_F(CliTest, RunInTheForegroundAttachesStartsAndExitsWithTheCode) {
  handler_.exitCode = 3;
  CliRun r = berth({"run", "debian:12", "sh"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "hello from the container\n");
  EXPECT_EQ(r.err, "to stderr\n");
  auto c = calls();
  ASSERT_GE(c.size(), 2u);
  EXPECT_EQ(c[c.size() - 2], "containerCreate debian:12");
  EXPECT_EQ(c.back(), "attach " + kId + " start");
  std::lock_guard lock(handler_.mutex);
  EXPECT_EQ(handler_.lastSpec.restart().kind(), pb::RESTART_NO);  // attached: not restarted
  EXPECT_FALSE(handler_.lastAttach.stdin());
}

TEST_F(CliTest, RunInteractiveForwardsStdinAndClosesIt) {
  handler_.exitCode = 0;
  CliRun r =
      berth({"run", "-i", "--restart", "always", "debian:12", "cat"}, {.stdinData = "some input"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "echo:some inputhello from the container\n");
  std::lock_guard lock(handler_.mutex);
  EXPECT_EQ(handler_.stdinReceived, "some input");
  EXPECT_TRUE(handler_.sawCloseStdin);
  EXPECT_TRUE(handler_.lastAttach.stdin());
  EXPECT_EQ(handler_.lastSpec.restart().kind(), pb::RESTART_ALWAYS);
}

TEST_F(CliTest, RunFailuresAre125) {
  CliRun missing = berth({"run", "missing"});
  EXPECT_EQ(missing.code, 125);
  EXPECT_EQ(missing.err, "berth: no such image: missing (pull it first)\n");
  CliRun taken = berth({"create", "--name", "taken", "img"});
  EXPECT_EQ(taken.code, 125);
  EXPECT_EQ(taken.err, "berth: name taken\n");
}

TEST_F(CliTest, CreatePrintsIdAndWarnings) {
  CliRun r = berth({"create", "--memory", "1b", "img"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, kId + "\n");
  EXPECT_EQ(r.err, "WARNING: memory limit too small\n");
}

TEST_F(CliTest, LifecycleEchoesNamesAndContinuesPastFailures) {
  CliRun stop = berth({"stop", "-t", "5", "web", "missing", "db"});
  EXPECT_EQ(stop.code, 1);
  EXPECT_EQ(stop.out, "web\ndb\n");
  EXPECT_EQ(stop.err, "berth: no such container: missing\n");
  {
    std::lock_guard lock(handler_.mutex);
    EXPECT_EQ(handler_.lastStop.timeout_seconds(), 5u);
  }
  CliRun start = berth({"start", "web"});
  EXPECT_EQ(start.code, 0);
  EXPECT_EQ(start.out, "web\n");
  CliRun rm = berth({"rm", "-f", "web"});
  EXPECT_EQ(rm.code, 0);
  EXPECT_EQ(calls().back(), "containerRemove web force");
  EXPECT_EQ(berth({"stop", "-t", "-1", "web"}).code, 125);
}

TEST_F(CliTest, StartAttachedRunsTheSession) {
  handler_.exitCode = 7;
  CliRun r = berth({"start", "-a", "web"});
  EXPECT_EQ(r.code, 7);
  EXPECT_EQ(r.out, "hello from the container\n");
  EXPECT_EQ(berth({"start", "-a", "a", "b"}).code, 125);
}

TEST_F(CliTest, UpdateSendsOnlyWhatWasGiven) {
  CliRun r = berth({"update", "--memory", "1g", "--cpus", "1.5", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web: updated (not running: the new limits apply when it starts)\n");
  std::lock_guard lock(handler_.mutex);
  EXPECT_EQ(handler_.lastUpdate.id(), "web");
  EXPECT_EQ(handler_.lastUpdate.memory_bytes(), 1LL << 30);
  EXPECT_EQ(handler_.lastUpdate.nano_cpus(), 1'500'000'000u);
  EXPECT_FALSE(handler_.lastUpdate.has_pids_limit());
}

TEST_F(CliTest, PsTableQuietAndJson) {
  CliRun table = berth({"ps", "-a"});
  EXPECT_EQ(table.code, 0);
  EXPECT_TRUE(contains(table.out, "CONTAINER ID   IMAGE       COMMAND                  CREATED"))
      << table.out;
  EXPECT_TRUE(contains(table.out,
                       "0123456789ab   debian:12   \"sh -c while true; d…\"   "
                       "2 hours ago   Up 5 minutes                2          web"))
      << table.out;
  EXPECT_TRUE(contains(table.out, "Exited (1) 30 seconds ago")) << table.out;
  EXPECT_EQ(berth({"ps", "-q"}).out, "0123456789ab\n");
  EXPECT_EQ(berth({"ps", "-q", "--no-trunc"}).out, kId + "\n");
  auto j = nlohmann::json::parse(berth({"ps", "-a", "--format", "json"}).out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "web");
  EXPECT_EQ(j[0]["state"], "running");
  EXPECT_EQ(j[1]["exit_code"], 1);
}

TEST_F(CliTest, InspectIsAJsonArray) {
  CliRun r = berth({"inspect", "web", "missing"});
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "web");
  EXPECT_EQ(j[0]["spec"]["image"], "debian:12");
  EXPECT_EQ(r.err, "berth: no such container: missing\n");
}

// ------------------------------------------------------------ logs, exec, shell, stats

TEST_F(CliTest, LogsSplitStreamsAndJoinPartials) {
  CliRun r = berth({"logs", "--tail", "5", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "line one\npartial\n");
  EXPECT_EQ(r.err, "an error\n");
  {
    std::lock_guard lock(handler_.mutex);
    EXPECT_EQ(handler_.lastLogs.tail(), 5u);
  }
  CliRun t = berth({"logs", "-t", "web"});
  EXPECT_EQ(t.out, "2023-11-14T22:13:20Z line one\n2023-11-14T22:13:20.5Z partial\n");
  CliRun missing = berth({"logs", "missing"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "berth: no such container: missing\n");
}

TEST_F(CliTest, ExecForwardsStdinAndReturnsTheProcessCode) {
  handler_.exitCode = 42;
  CliRun r = berth({"exec", "-i", "-e", "A=1", "web", "cat", "-n"}, {.stdinData = "abc"});
  EXPECT_EQ(r.code, 42);
  EXPECT_EQ(r.out, "echo:abcexec cat\n");
  std::lock_guard lock(handler_.mutex);
  EXPECT_EQ(handler_.lastExec.cmd(1), "-n");
  EXPECT_EQ(handler_.lastExec.env(0), "A=1");
  EXPECT_TRUE(handler_.sawCloseStdin);
}

TEST_F(CliTest, ExecErrors) {
  CliRun missing = berth({"exec", "missing", "true"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "berth: no such container: missing\n");
  EXPECT_EQ(berth({"exec", "web"}).code, 125);
}

TEST_F(CliTest, ShellIsInteractive) {
  handler_.exitCode = 0;
  CliRun r = berth({"shell", "--shell", "/bin/bash", "web"}, {.stdinData = "exit\n"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "echo:exit\nbye\n");
  std::lock_guard lock(handler_.mutex);
  EXPECT_EQ(handler_.lastShell.shell(), "/bin/bash");
}

TEST_F(CliTest, StatsOnceAndStreaming) {
  CliRun once = berth({"stats", "--no-stream"});
  EXPECT_EQ(once.code, 0);
  EXPECT_EQ(once.out,
            "CONTAINER      NAME   CPU %    MEM USAGE / LIMIT   MEM %    PIDS\n"
            "0123456789ab   web    12.50%   64MiB / 512MiB      12.50%   3\n");
  EXPECT_EQ(calls().back(), "stats 0");
  CliRun json = berth({"stats", "--no-stream", "--format", "json", "web"});
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j[0]["pids"], 3);
  EXPECT_EQ(calls().back(), "stats 1");
  CliRun stream = berth({"stats", "--format", "json"});
  EXPECT_EQ(stream.code, 0);
  EXPECT_EQ(std::count(stream.out.begin(), stream.out.end(), '\n'), 2);  // JSON lines
  EXPECT_EQ(calls().back(), "stats 0 stream");
}

}  // namespace
}  // namespace berth::agent::cli::testing
