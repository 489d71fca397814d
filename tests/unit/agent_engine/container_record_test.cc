// The persisted container record (agent/engine/container_record.h): every
// field survives a round trip through the file, bytes that are not UTF-8
// survive in the spec, and a corrupt or truncated record is an error naming
// the file, never a crash.
#include "agent/engine/container_record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

class ContainerRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-record-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)sys::removeAll(dir_); }
  std::string dir_;
};

ContainerRecord sample() {
  ContainerRecord r;
  r.id = std::string(64, 'a');
  r.name = "web";
  r.createdNs = 1700000000123456789;
  r.spec.set_image("busybox");
  r.spec.add_env(std::string("BIN=\xff\xfe", 6));
  r.spec.add_cmd("sh");
  r.spec.mutable_entrypoint();  // set but empty: "clear the entrypoint"
  r.spec.set_memory_bytes(64 << 20);
  r.spec.mutable_restart()->set_kind(pb::RESTART_ON_FAILURE);
  r.spec.mutable_restart()->set_max_retries(3);
  r.spec.set_stop_timeout(0);
  (*r.spec.mutable_labels())["tier"] = "front";
  r.imageReference = "docker.io/library/busybox:latest";
  r.imageId = "sha256:" + std::string(64, 'b');
  r.layerDirs = {"/l/1", "/l/2"};
  r.args = {"sh", "-c", "exit 3"};
  r.env = {"PATH=/bin", "A=b c"};
  r.user = "1:1";
  r.workdir = "/var/log";
  r.shell = "/bin/sh";
  r.stopSignal = "SIGQUIT";
  r.cgroupsPath = "/berth/" + r.id;
  r.labels = {{"tier", "front"}};
  r.state = RecordState::kRunning;
  r.initPid = 1234;
  r.shimPid = 1200;
  r.startedNs = 1700000001000000000;
  r.everStarted = true;
  r.stoppedByUser = true;
  r.restartCount = 2;
  r.backoffStep = 3;
  r.hasExit = true;
  r.lastExit = RecordedExit{137, 9, 1700000002000000000, true};
  return r;
}

TEST_F(ContainerRecordTest, RoundTripsEveryField) {
  ContainerRecord r = sample();
  ASSERT_TRUE(saveRecord(dir_, r));
  auto back = loadRecord(dir_);
  ASSERT_TRUE(back) << back.error().str();
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->name, r.name);
  EXPECT_EQ(back->createdNs, r.createdNs);
  EXPECT_EQ(back->spec.SerializeAsString(), r.spec.SerializeAsString());
  EXPECT_TRUE(back->spec.has_entrypoint());
  EXPECT_TRUE(back->spec.has_stop_timeout());
  EXPECT_EQ(back->spec.env(0), std::string("BIN=\xff\xfe", 6));
  EXPECT_EQ(back->imageReference, r.imageReference);
  EXPECT_EQ(back->imageId, r.imageId);
  EXPECT_EQ(back->layerDirs, r.layerDirs);
  EXPECT_EQ(back->args, r.args);
  EXPECT_EQ(back->env, r.env);
  EXPECT_EQ(back->user, r.user);
  EXPECT_EQ(back->workdir, r.workdir);
  EXPECT_EQ(back->shell, r.shell);
  EXPECT_EQ(back->stopSignal, r.stopSignal);
  EXPECT_EQ(back->cgroupsPath, r.cgroupsPath);
  EXPECT_EQ(back->labels, r.labels);
  EXPECT_EQ(back->state, RecordState::kRunning);
  EXPECT_EQ(back->initPid, 1234);
  EXPECT_EQ(back->shimPid, 1200);
  EXPECT_EQ(back->startedNs, r.startedNs);
  EXPECT_TRUE(back->everStarted);
  EXPECT_TRUE(back->stoppedByUser);
  EXPECT_EQ(back->restartCount, 2u);
  EXPECT_EQ(back->backoffStep, 3u);
  ASSERT_TRUE(back->hasExit);
  EXPECT_EQ(back->lastExit.exitCode, 137);
  EXPECT_EQ(back->lastExit.signal, 9);
  EXPECT_EQ(back->lastExit.finishedNs, r.lastExit.finishedNs);
  EXPECT_TRUE(back->lastExit.oomKilled);
}

TEST_F(ContainerRecordTest, EveryStateRoundTrips) {
  for (RecordState s : {RecordState::kCreating, RecordState::kCreated, RecordState::kRunning,
                        RecordState::kExited, RecordState::kRemoving}) {
    ContainerRecord r = sample();
    r.state = s;
    r.hasExit = false;
    auto back = decodeRecord(encodeRecord(r), "x");
    ASSERT_TRUE(back) << back.error().str();
    EXPECT_EQ(back->state, s) << recordStateName(s);
    EXPECT_FALSE(back->hasExit);
  }
}

TEST_F(ContainerRecordTest, MissingRecordIsEnoent) {
  auto none = loadRecord(dir_);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ENOENT);
}

TEST_F(ContainerRecordTest, CorruptRecordsAreErrorsNamingTheFile) {
  const std::string path = dir_ + "/record.json";
  std::string good = encodeRecord(sample());
  std::vector<std::string> corrupt = {
      "",
      "{",
      "[]",
      "null",
      good.substr(0, good.size() / 2),  // torn write
      R"({"version":1,"id":"x","state":"flying"})",
      R"({"version":1,"id":"x","state":"running","initPid":"12"})",
      R"({"version":1,"id":"x","state":"running","args":[1,2]})",
      R"({"version":1,"id":"x","state":"running","lastExit":{"exitCode":"a"}})",
      R"({"version":1,"id":"x","state":"running","spec":{"memory_bytes":"lots"}})",
      R"({"version":99,"id":"x","state":"running"})",
      R"({"version":1,"state":"running"})",
  };
  for (const std::string& text : corrupt) {
    ASSERT_TRUE(sys::writeFileAtomic(path, text));
    auto r = loadRecord(dir_);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code(), EINVAL) << text;
    EXPECT_NE(r.error().what().find(path), std::string::npos) << r.error().what();
  }
}

TEST_F(ContainerRecordTest, SaveReplacesTheWholeFile) {
  ContainerRecord r = sample();
  r.args.assign(1000, std::string(100, 'x'));
  ASSERT_TRUE(saveRecord(dir_, r));
  r = sample();
  r.name = "short";
  ASSERT_TRUE(saveRecord(dir_, r));
  auto back = loadRecord(dir_);
  ASSERT_TRUE(back) << back.error().str();
  EXPECT_EQ(back->name, "short");
  EXPECT_EQ(back->args.size(), 3u);
}

}  // namespace
}  // namespace berth::agent::engine
