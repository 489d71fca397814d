// Integration tests (root) of recovery: a new engine on the same roots, as
// berthd started again after a SIGKILL (the old engine object is dropped,
// its containers keep running under their shims). It re-attaches to a live
// container and notices its later exit, records an exit that happened while
// no daemon ran, restarts what its policy says should run, removes
// half-created containers and leaves a corrupt record alone.
#include <unistd.h>

#include "agent/engine/container_record.h"
#include "agent/shim/exit_status.h"
#include "engine_fixture.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"

namespace berth::tests::engine {
namespace {

// A container that exits with 7 once the test creates /tmp/go in its rootfs.
pb::ContainerSpec waitForGo(pb::ContainerSpec s) {
  s.clear_cmd();
  for (const char* arg :
       {"sh", "-c", "echo up; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo bye; exit 7"}) {
    s.add_cmd(arg);
  }
  return s;
}

void letItGo(const std::string& containerDir) {
  ASSERT_TRUE(sys::writeFileReplace(containerDir + "/rootfs/tmp/go", "1"));
}

TEST_F(EngineTest, NewEngineReattachesToARunningContainerAndSeesItsExit) {
  std::string id = runContainer(waitForGo(spec({}, pb::RESTART_NO)));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(waitUntil([&] { return logText(id) == "up\n"; }));
  pid_t pid = inspect(id).summary().pid();
  int64_t started = inspect(id).summary().started_ns();

  restartEngine();
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.summary().state(), pb::STATE_RUNNING);
  EXPECT_EQ(info.summary().pid(), pid);
  EXPECT_EQ(info.summary().started_ns(), started);
  EXPECT_TRUE(processAlive(pid));
  EXPECT_TRUE(engine_->shimPidfd(id).valid());

  letItGo(containerDir(id));
  ASSERT_TRUE(waitExited(id));
  EXPECT_EQ(inspect(id).summary().exit_code(), 7);
  EXPECT_EQ(logText(id), "up\nbye\n");
}

TEST_F(EngineTest, ExitWhileNoDaemonRanIsRecordedAndThePolicyApplied) {
  std::string no = runContainer(waitForGo(spec({}, pb::RESTART_NO)));
  std::string always = runContainer(waitForGo(spec({}, pb::RESTART_ALWAYS)));
  ASSERT_FALSE(no.empty());
  ASSERT_FALSE(always.empty());
  ASSERT_TRUE(waitUntil([&] { return logText(no) == "up\n" && logText(always) == "up\n"; }));

  engine_.reset();  // berthd is gone; the containers go on without it
  letItGo(containerDir(no));
  letItGo(containerDir(always));
  ASSERT_TRUE(waitUntil([&] {
    return sys::pathExists(containerDir(no) + "/" + agent::shim::kExitFileName) &&
           sys::pathExists(containerDir(always) + "/" + agent::shim::kExitFileName);
  }));
  // Nothing was recorded meanwhile: the records still say running.
  ASSERT_EQ(agent::engine::loadRecord(containerDir(no))->state,
            agent::engine::RecordState::kRunning);

  restartEngine();
  pb::ContainerInfo info = inspect(no);
  EXPECT_EQ(info.summary().state(), pb::STATE_EXITED);
  EXPECT_EQ(info.summary().exit_code(), 7);
  // `always` runs again (its /tmp/go is still there, so it exits at once and
  // keeps restarting: its restart count grows).
  EXPECT_TRUE(waitUntil([&] { return inspect(always).summary().restart_count() >= 1; }));
  EXPECT_TRUE(waitUntil([&] { return logLines(always).size() >= 4; })) << logText(always);
}

TEST_F(EngineTest, ALiveShimIsAdoptedEvenWhenTheRecordMissedTheStart) {
  std::string id = runContainer(waitForGo(spec({}, pb::RESTART_NO)));
  ASSERT_TRUE(waitUntil([&] { return logText(id) == "up\n"; }));
  pid_t pid = inspect(id).summary().pid();
  engine_.reset();
  // As if berthd died after launching the shim, before recording "running".
  auto record = agent::engine::loadRecord(containerDir(id));
  ASSERT_TRUE(record);
  record->state = agent::engine::RecordState::kCreated;
  record->initPid = 0;
  ASSERT_TRUE(agent::engine::saveRecord(containerDir(id), *record));

  restartEngine();
  pb::ContainerInfo info = inspect(id);
  EXPECT_EQ(info.summary().state(), pb::STATE_RUNNING);
  EXPECT_EQ(info.summary().pid(), pid);
  letItGo(containerDir(id));
  ASSERT_TRUE(waitExited(id));
  EXPECT_EQ(inspect(id).summary().exit_code(), 7);
}

TEST_F(EngineTest, AfterAHostRebootWhatShouldRunRunsAgain) {
  std::string id = runContainer(spec({"sleep", "1000"}, pb::RESTART_ALWAYS));
  ASSERT_FALSE(id.empty());
  pid_t oldPid = inspect(id).summary().pid();
  engine_.reset();
  // Close to a reboot: the container and its shim are gone (killed while no
  // daemon ran), its runtime state is deleted, the rootfs is unmounted.
  std::string warnings;
  ASSERT_TRUE(runtime::container::deleteContainer(paths_.runtimeStateRoot(), id, true, &warnings));
  ASSERT_TRUE(waitUntil([&] { return !processAlive(oldPid); }));
  ASSERT_TRUE(storage::rootfs::unmount(containerDir(id)));
  ASSERT_FALSE(*storage::rootfs::isMounted(containerDir(id)));

  restartEngine();
  ASSERT_TRUE(waitUntil([&] { return inspect(id).summary().state() == pb::STATE_RUNNING; }));
  pb::ContainerInfo info = inspect(id);
  EXPECT_NE(info.summary().pid(), oldPid);
  EXPECT_TRUE(processAlive(info.summary().pid()));
  EXPECT_EQ(info.summary().restart_count(), 1u);
  EXPECT_TRUE(*storage::rootfs::isMounted(containerDir(id)));
}

TEST_F(EngineTest, HalfCreatedContainersAreRemovedAtRecovery) {
  pb::ContainerCreateRequest create;
  *create.mutable_spec() = spec({"true"});
  auto created = engine_->create(create);
  ASSERT_TRUE(created) << created.error().str();
  std::string id = created->id();
  engine_.reset();
  // As if berthd died in the middle of creating it.
  auto record = agent::engine::loadRecord(containerDir(id));
  ASSERT_TRUE(record);
  record->state = agent::engine::RecordState::kCreating;
  ASSERT_TRUE(agent::engine::saveRecord(containerDir(id), *record));
  // And a directory whose record was never written.
  std::string orphan = paths_.containerDir(std::string(64, 'e'));
  ASSERT_TRUE(sys::mkdirAll(orphan + "/upper"));

  restartEngine();
  EXPECT_FALSE(sys::pathExists(containerDir(id)));
  EXPECT_FALSE(sys::pathExists(orphan));
  pb::ContainerListRequest all;
  all.set_all(true);
  EXPECT_EQ(engine_->list(all)->containers_size(), 0);
}

TEST_F(EngineTest, ACorruptRecordIsReportedAndLeftAlone) {
  std::string good = runContainer(spec({"true"}));
  ASSERT_TRUE(waitExited(good));
  std::string badDir = paths_.containerDir(std::string(64, 'd'));
  ASSERT_TRUE(sys::mkdirAll(badDir));
  ASSERT_TRUE(sys::writeFileReplace(badDir + "/record.json", "{\"version\":1,\"id\":"));

  restartEngine();
  auto warnings = engine_->recoveryWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(badDir + "/record.json"), std::string::npos) << warnings[0];
  EXPECT_TRUE(sys::pathExists(badDir));
  EXPECT_EQ(inspect(good).summary().state(), pb::STATE_EXITED);
  ASSERT_TRUE(sys::removeAll(badDir));
}

TEST_F(EngineTest, CreatedContainerStartsAfterRecovery) {
  pb::ContainerCreateRequest create;
  *create.mutable_spec() = spec({"sh", "-c", "echo started"});
  auto created = engine_->create(create);
  ASSERT_TRUE(created) << created.error().str();
  EXPECT_EQ(inspect(created->id()).summary().state(), pb::STATE_CREATED);
  restartEngine();
  EXPECT_EQ(inspect(created->id()).summary().state(), pb::STATE_CREATED);
  auto view = engine_->start(created->name());
  ASSERT_TRUE(view) << view.error().str();
  EXPECT_GT(view->shimPid, 0);
  ASSERT_TRUE(waitExited(created->id()));
  EXPECT_EQ(logText(created->id()), "started\n");
}

}  // namespace
}  // namespace berth::tests::engine
