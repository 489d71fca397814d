// Integration tests (root) of the container engine with real images, shims,
// mounts and cgroups: run and exit codes, the image's env/workdir/user and
// the user's overrides, stop with SIGKILL escalation, rm and rm -f,
// auto-remove, on-failure restarts with backoff, live updates visible in
// the cgroup files. Recovery after a daemon restart is engine_recovery_test.cc.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "agent/engine/container_resources.h"
#include "engine_fixture.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"

namespace berth::tests::engine {
namespace {

TEST_F(EngineTest, RunRecordsTheExitCode) {
  std::string id = runContainer(spec({"sh", "-c", "echo hello; exit 3"}));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(waitExited(id));
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.summary().exit_code(), 3);
  EXPECT_EQ(info.summary().pid(), 0);
  EXPECT_EQ(info.summary().restart_count(), 0u);
  EXPECT_EQ(info.summary().status().rfind("Exited (3) ", 0), 0u) << info.summary().status();
  EXPECT_GT(info.summary().finished_ns(), info.summary().started_ns());
  auto exit = engine_->lastExit(id);
  ASSERT_TRUE(exit) << exit.error().str();
  EXPECT_EQ(exit->code(), 3);
  EXPECT_EQ(logText(id), "hello\n");
  // The record on disk says the same.
  auto record = agent::engine::loadRecord(containerDir(id));
  ASSERT_TRUE(record) << record.error().str();
  EXPECT_EQ(record->state, agent::engine::RecordState::kExited);
  EXPECT_EQ(record->lastExit.exitCode, 3);
}

TEST_F(EngineTest, LastExitIsKnownAsSoonAsTheShimPidfdIsReadable) {
  // What the attach/logs streams do: wait for the shim, then ask.
  std::string id = runContainer(spec({"sh", "-c", "sleep 0.3; exit 4"}));
  ASSERT_FALSE(id.empty());
  sys::UniqueFd pidfd = engine_->shimPidfd(id);
  ASSERT_TRUE(pidfd.valid());
  auto early = engine_->lastExit(id);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, pb::FAILED_PRECONDITION);
  ASSERT_TRUE(agent::engine::waitForExit(pidfd.get(), 10s));
  auto exit = engine_->lastExit(id);
  ASSERT_TRUE(exit) << exit.error().str();
  EXPECT_EQ(exit->code(), 4);
}

TEST_F(EngineTest, RunningContainerIsListedWithItsPid) {
  pb::ContainerSpec s = spec({"sleep", "1000"});
  s.set_name("sleeper");
  (*s.mutable_labels())["team"] = "engine";
  std::string id = runContainer(s);
  ASSERT_FALSE(id.empty());
  pb::ContainerListRequest request;
  auto list = engine_->list(request);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->containers_size(), 1);
  const pb::ContainerSummary& c = list->containers(0);
  EXPECT_EQ(c.id(), id);
  EXPECT_EQ(c.name(), "sleeper");
  EXPECT_EQ(c.state(), pb::STATE_RUNNING);
  EXPECT_EQ(c.status().rfind("Up ", 0), 0u) << c.status();
  EXPECT_TRUE(processAlive(c.pid()));
  EXPECT_EQ(c.labels().at("team"), "engine");
  // Lookups by name and id prefix; the ContainerAccess view agrees.
  auto view = engine_->find(id.substr(0, 8));
  ASSERT_TRUE(view) << view.error().str();
  EXPECT_EQ(view->name, "sleeper");
  EXPECT_EQ(view->initPid, c.pid());
  EXPECT_TRUE(engine_->shimPidfd("sleeper").valid());
  EXPECT_EQ(engine_->running().size(), 1u);
  // A second container with the same name is refused.
  pb::ContainerCreateRequest again;
  *again.mutable_spec() = s;
  auto dup = engine_->create(again);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, pb::ALREADY_EXISTS);
  // Label filters.
  (*request.mutable_label_filter())["team"] = "other";
  EXPECT_EQ(engine_->list(request)->containers_size(), 0);
}

TEST_F(EngineTest, EnvWorkdirAndUserComeFromTheImage) {
  pb::ContainerSpec s = spec({"sh", "-c", "id -u; pwd; echo $FROM_IMAGE $OVERRIDE_ME"});
  s.set_image(derivedImage_);
  std::string id = runContainer(s);
  ASSERT_TRUE(waitExited(id));
  EXPECT_EQ(inspect(id).summary().exit_code(), 0) << logText(id);
  EXPECT_EQ(logText(id), "1\n/var/spool\nyes image\n");
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.effective_user(), "1:1");
  EXPECT_EQ(info.effective_workdir(), "/var/spool");
  auto view = engine_->find(id);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->shell, "/bin/ash");
  EXPECT_EQ(view->labels.at("origin"), "image");
}

TEST_F(EngineTest, EnvWorkdirAndUserOverrides) {
  pb::ContainerSpec s = spec({"sh", "-c", "id -u; pwd; echo $FROM_IMAGE $OVERRIDE_ME $NEW"});
  s.set_image(derivedImage_);
  s.add_env("OVERRIDE_ME=cli");
  s.add_env("NEW=1");
  s.set_workdir("/made/by/start");
  s.set_user("0");
  std::string id = runContainer(s);
  ASSERT_TRUE(waitExited(id));
  EXPECT_EQ(logText(id), "0\n/made/by/start\nyes cli 1\n");
}

TEST_F(EngineTest, StopEscalatesToSigkillAfterTheTimeout) {
  // The init ignores SIGTERM (trap ''), so only SIGKILL ends it.
  std::string id = runContainer(spec(
      {"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"}, pb::RESTART_ALWAYS));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(waitUntil([&] { return logText(id) == "ready\n"; }));
  pb::ContainerStopRequest stop;
  stop.set_id(id);
  stop.set_timeout_seconds(1);
  auto begin = std::chrono::steady_clock::now();
  auto stopped = engine_->stop(stop);
  auto took = std::chrono::steady_clock::now() - begin;
  ASSERT_TRUE(stopped) << stopped.error().str();
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, 8s);
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.summary().state(), pb::STATE_EXITED);
  EXPECT_EQ(info.summary().exit_code(), 137);
  EXPECT_EQ(info.exit_signal(), SIGKILL);
  // A stop by the user is not undone by the restart policy.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(inspect(id).summary().state(), pb::STATE_EXITED);
  EXPECT_EQ(inspect(id).summary().restart_count(), 0u);
  // And it starts again on request.
  pb::ContainerStartRequest start;
  start.set_id(id);
  ASSERT_TRUE(engine_->start(start));
  EXPECT_EQ(inspect(id).summary().state(), pb::STATE_RUNNING);
}

TEST_F(EngineTest, StopSignalFromTheSpecEndsTheContainerAtOnce) {
  pb::ContainerSpec s =
      spec({"sh", "-c", "trap 'exit 42' USR1; echo ready; while :; do sleep 0.1; done"});
  s.set_stop_signal("SIGUSR1");
  std::string id = runContainer(s);
  ASSERT_TRUE(waitUntil([&] { return logText(id) == "ready\n"; }));
  pb::ContainerStopRequest stop;
  stop.set_id(id);
  auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(engine_->stop(stop));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
  EXPECT_EQ(inspect(id).summary().exit_code(), 42);
}

TEST_F(EngineTest, RemoveRefusesARunningContainerUnlessForced) {
  std::string id = runContainer(spec({"sleep", "1000"}));
  ASSERT_FALSE(id.empty());
  pb::ContainerInfo info = inspect(id);
  pid_t pid = info.summary().pid();
  std::string cgroupsPath = info.cgroup_path();
  ASSERT_TRUE(processAlive(pid));
  pb::ContainerRemoveRequest rm;
  rm.set_id(id);
  auto refused = engine_->remove(rm);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, pb::CONFLICT);
  EXPECT_NE(refused.error().message.find("stop it first or use -f"), std::string::npos);
  EXPECT_TRUE(processAlive(pid));

  rm.set_force(true);
  auto removed = engine_->remove(rm);
  ASSERT_TRUE(removed) << removed.error().str();
  EXPECT_TRUE(waitUntil([&] { return !processAlive(pid); }, 5s));
  pb::ContainerInspectRequest gone;
  gone.set_id(id);
  auto missing = engine_->inspect(gone);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, pb::NOT_FOUND);
  EXPECT_FALSE(sys::pathExists(containerDir(id)));
  EXPECT_FALSE(sys::pathExists(paths_.runtimeStateRoot() + "/" + id));
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "pids", "cgroup.procs").rfind("<", 0), 0u);
}

TEST_F(EngineTest, RemoveOfAnExitedContainerUnmountsAndDeletesEverything) {
  std::string id = runContainer(spec({"true"}));
  ASSERT_TRUE(waitExited(id));
  auto mounted = storage::rootfs::isMounted(containerDir(id));
  ASSERT_TRUE(mounted);
  EXPECT_TRUE(*mounted);
  pb::ContainerRemoveRequest rm;
  rm.set_id(id);
  ASSERT_TRUE(engine_->remove(rm));
  EXPECT_FALSE(sys::pathExists(containerDir(id)));
  pb::ContainerListRequest all;
  all.set_all(true);
  EXPECT_EQ(engine_->list(all)->containers_size(), 0);
}

TEST_F(EngineTest, AutoRemoveRemovesTheContainerOnceItExited) {
  pb::ContainerSpec s = spec({"sh", "-c", "exit 5"}, pb::RESTART_UNSPECIFIED);
  s.set_auto_remove(true);
  std::string id = runContainer(s);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(waitUntil([&] { return !sys::pathExists(containerDir(id)); }));
  pb::ContainerInspectRequest request;
  request.set_id(id);
  EXPECT_FALSE(engine_->inspect(request));
  auto exit = engine_->lastExit(id);
  ASSERT_TRUE(exit) << exit.error().str();
  EXPECT_EQ(exit->code(), 5);
}

TEST_F(EngineTest, OnFailureRestartsWithBackoffUpToMaxRetries) {
  // Backoff in this fixture: 300 ms, doubling, cap 2 s. Run 1 -> run 2 is
  // immediate, run 2 -> run 3 waits 300 ms; no run 4 (on-failure:2).
  pb::ContainerSpec s = spec({"sh", "-c", "echo run; exit 1"}, pb::RESTART_ON_FAILURE);
  s.mutable_restart()->set_max_retries(2);
  std::string id = runContainer(s);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(waitUntil([&] { return inspect(id).summary().restart_count() == 2; }));
  ASSERT_TRUE(waitExited(id));
  std::this_thread::sleep_for(1500ms);
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.summary().state(), pb::STATE_EXITED);
  EXPECT_EQ(info.summary().restart_count(), 2u);
  EXPECT_EQ(info.summary().exit_code(), 1);
  std::vector<LoggedLine> lines = logLines(id);
  ASSERT_EQ(lines.size(), 3u) << logText(id);
  int64_t secondGapMs = (lines[2].timeNs - lines[1].timeNs) / 1000000;
  EXPECT_GE(secondGapMs, 300) << "the second restart did not wait for the backoff";
  EXPECT_LT(secondGapMs, 3000);
}

TEST_F(EngineTest, ACleanExitIsNotRestartedByOnFailure) {
  std::string id = runContainer(spec({"true"}, pb::RESTART_UNSPECIFIED));
  ASSERT_TRUE(waitExited(id));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(inspect(id).summary().restart_count(), 0u);
  EXPECT_EQ(inspect(id).summary().state(), pb::STATE_EXITED);
}

TEST_F(EngineTest, StopDuringBackoffKeepsTheContainerStopped) {
  pb::ContainerSpec s = spec({"sh", "-c", "exit 2"}, pb::RESTART_ALWAYS);
  std::string id = runContainer(s);
  // After the immediate restart the second one waits: RESTARTING.
  ASSERT_TRUE(waitUntil([&] { return inspect(id).summary().state() == pb::STATE_RESTARTING; }));
  EXPECT_EQ(inspect(id).summary().status().rfind("Restarting (2) ", 0), 0u)
      << inspect(id).summary().status();
  pb::ContainerStopRequest stop;
  stop.set_id(id);
  ASSERT_TRUE(engine_->stop(stop));
  uint32_t count = inspect(id).summary().restart_count();
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(inspect(id).summary().state(), pb::STATE_EXITED);
  EXPECT_EQ(inspect(id).summary().restart_count(), count);
}

TEST_F(EngineTest, UpdateChangesTheLiveCgroupAndTheBundle) {
  pb::ContainerSpec s = spec({"sleep", "1000"});
  s.set_memory_bytes(64 << 20);
  s.set_pids_limit(100);
  std::string id = runContainer(s);
  ASSERT_FALSE(id.empty());
  std::string cgroupsPath = inspect(id).cgroup_path();
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "memory", "memory.limit_in_bytes"),
            std::to_string(64 << 20));
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "pids", "pids.max"), "100");

  pb::ContainerUpdateRequest update;
  update.set_id(id);
  update.set_memory_bytes(128 << 20);
  update.set_pids_limit(50);
  update.set_nano_cpus(500000000);
  auto updated = engine_->update(update);
  ASSERT_TRUE(updated) << updated.error().str();
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "memory", "memory.limit_in_bytes"),
            std::to_string(128 << 20));
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "pids", "pids.max"), "50");
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "cpu", "cpu.cfs_quota_us"), "50000");
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.spec().memory_bytes(), 128 << 20);
  EXPECT_EQ(info.spec().pids_limit(), 50);

  // The limits survive a restart of the container (they are in the bundle).
  pb::ContainerRestartRequest restart;
  restart.set_id(id);
  restart.set_timeout_seconds(0);
  ASSERT_TRUE(engine_->restart(restart));
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "memory", "memory.limit_in_bytes"),
            std::to_string(128 << 20));
  EXPECT_EQ(cgroupFile(cgroupsPath, id, "pids", "pids.max"), "50");

  pb::ContainerUpdateRequest bad;
  bad.set_id(id);
  bad.set_memory_bytes(1000);
  auto refused = engine_->update(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, pb::INVALID_ARGUMENT);
}

TEST_F(EngineTest, AnOomKillIsRecorded) {
  // tail buffers a line without end in memory: the OOM killer stops it.
  pb::ContainerSpec s = spec({"sh", "-c", "head -c 200000000 /dev/zero | tail -n 1 >/dev/null"});
  s.set_memory_bytes(16 << 20);
  std::string id = runContainer(s);
  ASSERT_TRUE(waitExited(id, 60s));
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.summary().exit_code(), 137);
  EXPECT_TRUE(info.oom_killed());
  auto exit = engine_->lastExit(id);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->oom_killed());
}

TEST_F(EngineTest, ListAnswersWhileAStopWaitsAndParallelRunsAreSafe) {
  std::string slow = runContainer(spec({"sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"}));
  ASSERT_FALSE(slow.empty());
  std::thread stopper([&] {
    pb::ContainerStopRequest stop;
    stop.set_id(slow);
    stop.set_timeout_seconds(2);
    EXPECT_TRUE(engine_->stop(stop));
  });
  std::this_thread::sleep_for(200ms);
  // The stop holds its container, never the table.
  auto begin = std::chrono::steady_clock::now();
  pb::ContainerListRequest all;
  all.set_all(true);
  EXPECT_TRUE(engine_->list(all));
  EXPECT_TRUE(engine_->find(slow));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 500ms);

  std::vector<std::thread> runners;
  std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i) {
    runners.emplace_back([&, i] {
      pb::ContainerSpec s = spec({"sh", "-c", "exit " + std::to_string(i)});
      s.set_name("parallel-" + std::to_string(i));
      pb::ContainerRunRequest run;
      *run.mutable_spec() = s;
      auto reply = engine_->run(run);
      ASSERT_TRUE(reply) << reply.error().str();
      ASSERT_TRUE(waitExited(reply->id()));
      EXPECT_EQ(inspect(reply->id()).summary().exit_code(), i);
      pb::ContainerRemoveRequest rm;
      rm.set_id(s.name());
      EXPECT_TRUE(engine_->remove(rm));
      ++done;
    });
  }
  for (auto& t : runners) t.join();
  stopper.join();
  EXPECT_EQ(done.load(), 4);
  EXPECT_EQ(inspect(slow).summary().exit_code(), 137);
  EXPECT_EQ(engine_->list(all)->containers_size(), 1);
}

TEST_F(EngineTest, BadRequestsFailCleanly) {
  pb::ContainerSpec s = spec({});
  s.set_image("no-such-image:1");
  pb::ContainerCreateRequest create;
  *create.mutable_spec() = s;
  auto missing = engine_->create(create);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, pb::NOT_FOUND);

  // No command left after the overrides: nothing may stay behind.
  s = spec({});
  s.mutable_entrypoint();
  *create.mutable_spec() = s;
  auto noCommand = engine_->create(create);
  ASSERT_FALSE(noCommand);
  EXPECT_NE(noCommand.error().message.find("no command specified"), std::string::npos)
      << noCommand.error().message;
  pb::ContainerListRequest all;
  all.set_all(true);
  EXPECT_EQ(engine_->list(all)->containers_size(), 0);

  pb::ContainerStartRequest start;
  start.set_id("nothere");
  auto notFound = engine_->start(start);
  ASSERT_FALSE(notFound);
  EXPECT_EQ(notFound.error().code, pb::NOT_FOUND);
}

TEST_F(EngineTest, ShimsCompileTheSeccompProfileOnceIntoTheRunDirCache) {
  // The default profile costs ~7 ms of libseccomp CPU per start; the shims
  // share compiled filters through <run>/seccomp-cache (root's only).
  for (int i = 0; i < 2; ++i) {
    std::string id = runContainer(spec({"true"}));
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(waitExited(id));
    EXPECT_EQ(inspect(id).summary().exit_code(), 0);
  }
  std::vector<std::string> entries;
  if (DIR* dir = ::opendir(paths_.seccompCacheDir().c_str())) {
    while (struct dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") entries.push_back(name);
    }
    ::closedir(dir);
  }
  ASSERT_EQ(entries.size(), 1u) << "one profile, one entry";
  EXPECT_TRUE(entries[0].ends_with(".bpf")) << entries[0];
  struct stat st {};
  ASSERT_EQ(::stat(paths_.seccompCacheDir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace berth::tests::engine
