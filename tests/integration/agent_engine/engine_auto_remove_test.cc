// Integration tests (root) of auto-remove (`run --rm`) at the edges a client
// sees: once the engine answers lastExit() for a container whose shim has
// exited, an auto-remove container is gone (its name free at once), even
// when the exit monitor has not handled the exit yet; and a start that
// fails (a command that does not exist) removes an auto-remove container
// but keeps any other, as docker does; a daemon killed in the middle of an
// auto-remove's background cleanup has it finished by the next one.
#include <unistd.h>

#include "agent/engine/container_resources.h"
#include "engine_fixture.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"

namespace berth::tests::engine {
namespace {

std::string createContainer(eng::ContainerEngine& engine, const pb::ContainerSpec& spec) {
  pb::ContainerCreateRequest request;
  *request.mutable_spec() = spec;
  auto created = engine.create(request);
  EXPECT_TRUE(created) << created.error().str();
  return created ? created->id() : "";
}

bool exists(eng::ContainerEngine& engine, const std::string& idOrName) {
  pb::ContainerInspectRequest request;
  request.set_id(idOrName);
  return engine.inspect(request).ok();
}

size_t containerCount(eng::ContainerEngine& engine) {
  pb::ContainerListRequest all;
  all.set_all(true);
  auto list = engine.list(all);
  return list ? static_cast<size_t>(list->containers_size()) : 0;
}

TEST_F(EngineTest, LastExitOfAnAutoRemoveContainerAnswersOnceItIsGone) {
  // Over and over, as `berth run --rm --name x` in a loop: each time the
  // exit is known, the name must be free for the next one.
  for (int round = 0; round < 5; ++round) {
    pb::ContainerSpec s = spec({"sh", "-c", "exit 6"});
    s.set_auto_remove(true);
    s.set_name("rm-reuse-" + std::to_string(::getpid()));
    std::string id = createContainer(*engine_, s);
    ASSERT_FALSE(id.empty()) << "round " << round;
    // What an attach with start=true does: start, wait for the shim, ask.
    auto started = engine_->start(id);
    ASSERT_TRUE(started) << started.error().str();
    sys::UniqueFd shim = engine_->shimPidfd(id);
    if (shim) {
      ASSERT_TRUE(eng::waitForExit(shim.get(), 10s));
    }
    auto exit = engine_->lastExit(id);
    ASSERT_TRUE(exit) << "round " << round << ": " << exit.error().str();
    EXPECT_EQ(exit->code(), 6);
    EXPECT_FALSE(exists(*engine_, id)) << "round " << round << ": still there after lastExit";
    EXPECT_FALSE(exists(*engine_, s.name()));
    EXPECT_FALSE(sys::pathExists(containerDir(id))) << "round " << round;
  }
  EXPECT_EQ(containerCount(*engine_), 0u);
}

TEST_F(EngineTest, FailedStartOfAnAutoRemoveContainerRemovesIt) {
  pb::ContainerSpec s = spec({"/no/such/binary"});
  s.set_auto_remove(true);
  std::string id = createContainer(*engine_, s);
  ASSERT_FALSE(id.empty());
  auto started = engine_->start(id);  // the attach's start
  ASSERT_FALSE(started);
  // The runtime's words, which the CLI maps to exit code 127.
  EXPECT_NE(started.error().message.find("exec: \"/no/such/binary\""), std::string::npos)
      << started.error().message;
  EXPECT_NE(started.error().message.find("No such file or directory"), std::string::npos)
      << started.error().message;
  EXPECT_FALSE(exists(*engine_, id));
  EXPECT_FALSE(sys::pathExists(containerDir(id)));

  // Detached (`run -d --rm`): the same.
  pb::ContainerRunRequest run;
  *run.mutable_spec() = s;
  auto reply = engine_->run(run);
  ASSERT_FALSE(reply);
  EXPECT_EQ(containerCount(*engine_), 0u);
}

TEST_F(EngineTest, FailedStartKeepsAContainerWithoutAutoRemove) {
  // Not executable (a directory): the runtime says EACCES (exit code 126).
  std::string id = createContainer(*engine_, spec({"/etc"}));
  ASSERT_FALSE(id.empty());
  pb::ContainerStartRequest request;
  request.set_id(id);
  auto started = engine_->start(request);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("exec: \"/etc\""), std::string::npos)
      << started.error().message;
  ASSERT_TRUE(exists(*engine_, id));
  EXPECT_EQ(inspect(id).summary().state(), pb::STATE_CREATED);
}

TEST_F(EngineTest, RecoveryFinishesARemovalLeftHalfDone) {
  // What a SIGKILL of berthd between an auto-remove's rename and its
  // background cleanup leaves: the directory under its .removing- name,
  // the rootfs still mounted in it, the runtime state and cgroup still there.
  std::string id = runContainer(spec({"true"}));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(waitExited(id));
  engine_.reset();
  std::string moved = paths_.containersRoot() + "/" + eng::kRemovingPrefix + id;
  ASSERT_EQ(::rename(containerDir(id).c_str(), moved.c_str()), 0);
  auto mounted = storage::rootfs::isMounted(moved);
  ASSERT_TRUE(mounted && *mounted) << "the rootfs mount did not move along";
  ASSERT_TRUE(sys::pathExists(paths_.runtimeStateRoot() + "/" + id));
  ASSERT_NO_FATAL_FAILURE(restartEngine());
  EXPECT_FALSE(sys::pathExists(moved));
  EXPECT_FALSE(sys::pathExists(paths_.runtimeStateRoot() + "/" + id));
  EXPECT_FALSE(exists(*engine_, id));
  EXPECT_TRUE(engine_->recoveryWarnings().empty());
}

}  // namespace
}  // namespace berth::tests::engine
