// Every call of the API through Client and Connection over a socketpair:
// what the client sends is what the handler sees, and back.
#include "agent/api/client.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "fake_handler.h"

namespace berth::agent::api {
namespace {

using testing::FakeHandler;
using testing::ServedPair;

class ClientTest : public ::testing::Test {
 protected:
  Client connect(ServedPair& pair) {
    auto client = Client::overFd(pair.takeClientFd());
    EXPECT_TRUE(client.ok()) << client.error().str();
    return std::move(client).value();
  }
  FakeHandler handler;
};

TEST_F(ClientTest, HelloReportsTheDaemon) {
  ServerOptions options;
  options.daemonVersion = "4.5.6";
  ServedPair pair(handler, options);
  Client client = connect(pair);
  EXPECT_EQ(client.daemon().daemon_version(), "4.5.6");
  EXPECT_EQ(client.daemon().protocol_version(), kProtocolVersion);
}

TEST_F(ClientTest, VersionMismatchIsAClearError) {
  ServedPair pair(handler);
  ClientOptions options;
  options.protocolVersion = kProtocolVersion + 7;
  options.clientVersion = "0.0.1";
  auto client = Client::overFd(pair.takeClientFd(), options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, pb::VERSION_MISMATCH);
  EXPECT_NE(client.error().message.find("berth 0.0.1 speaks protocol 8"), std::string::npos)
      << client.error().message;
  EXPECT_NE(client.error().message.find("same release"), std::string::npos);
}

TEST_F(ClientTest, ImageCallsRoundTrip) {
  ServedPair pair(handler);
  Client client = connect(pair);

  pb::ImageImportRequest import;
  import.set_path("/tmp/a.tar");
  import.set_reference("app:1");
  auto imported = client.imageImport(import);
  ASSERT_TRUE(imported.ok()) << imported.error().str();
  EXPECT_EQ(imported->images(0).id(), "/tmp/a.tar|app:1");

  pb::ImageListRequest list;
  list.set_all(true);
  auto listed = client.imageList(list);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->images(0).id(), "all");

  pb::ImageInspectRequest inspect;
  inspect.set_reference("debian:12");
  auto info = client.imageInspect(inspect);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->summary().id(), "debian:12");
  EXPECT_EQ(info->labels().at("a"), "b");

  inspect.set_reference("missing");
  auto missing = client.imageInspect(inspect);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, pb::NOT_FOUND);
  EXPECT_NE(missing.error().message.find("image missing"), std::string::npos);

  pb::ImageRemoveRequest remove;
  remove.set_reference("old");
  remove.set_force(true);
  auto removed = client.imageRemove(remove);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->untagged(0), "old!");

  pb::ImagePruneRequest prune;
  prune.set_all(true);
  auto pruned = client.imagePrune(prune);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->reclaimed_bytes(), 2u);
}

pb::ContainerSpec fullSpec() {
  pb::ContainerSpec spec;
  spec.set_image("busybox");
  spec.set_name("web");
  spec.add_env("A=1");
  spec.mutable_entrypoint();  // present but empty: clears the image's
  spec.add_cmd("sh");
  spec.add_cmd("-c");
  spec.set_memory_bytes(64 << 20);
  spec.set_nano_cpus(1'500'000'000);
  spec.set_pids_limit(100);
  spec.mutable_restart()->set_kind(pb::RESTART_ON_FAILURE);
  spec.mutable_restart()->set_max_retries(3);
  (*spec.mutable_labels())["tier"] = "front";
  spec.set_stop_timeout(0);  // present even when zero
  spec.add_volumes("data:/data:ro");
  return spec;
}

TEST_F(ClientTest, ContainerCallsRoundTrip) {
  ServedPair pair(handler);
  Client client = connect(pair);
  const std::string described =
      "busybox env:A=1 entrypoint:0 cmd:sh cmd:-c mem:67108864 cpus:1500000000 restart:3/3 "
      "label:tier=front stop:0 vol:data:/data:ro";

  pb::ContainerCreateRequest create;
  *create.mutable_spec() = fullSpec();
  auto created = client.containerCreate(create);
  ASSERT_TRUE(created.ok()) << created.error().str();
  EXPECT_EQ(created->id(), "id-web");
  EXPECT_EQ(created->warnings(0), described);

  create.mutable_spec()->set_name("taken");
  auto taken = client.containerCreate(create);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, pb::ALREADY_EXISTS);

  pb::ContainerRunRequest run;
  *run.mutable_spec() = fullSpec();
  auto ran = client.containerRun(run);
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(ran->id(), "run-web");
  EXPECT_EQ(ran->warnings(0), described);

  pb::ContainerStartRequest start;
  start.set_id("web");
  ASSERT_TRUE(client.containerStart(start).ok());
  EXPECT_EQ(handler.last, "start web");

  pb::ContainerStopRequest stop;
  stop.set_id("web");
  stop.set_timeout_seconds(0);
  ASSERT_TRUE(client.containerStop(stop).ok());
  EXPECT_EQ(handler.last, "stop web 0");

  pb::ContainerRestartRequest restart;
  restart.set_id("web");
  ASSERT_TRUE(client.containerRestart(restart).ok());
  EXPECT_EQ(handler.last, "restart web");

  pb::ContainerRemoveRequest remove;
  remove.set_id("web");
  remove.set_force(true);
  ASSERT_TRUE(client.containerRemove(remove).ok());
  EXPECT_EQ(handler.last, "rm web -f");

  pb::ContainerListRequest list;
  list.set_all(true);
  auto listed = client.containerList(list);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->containers(0).name(), "all");
  EXPECT_EQ(listed->containers(0).state(), pb::STATE_RUNNING);
  EXPECT_EQ(listed->containers(0).restart_count(), 3u);

  pb::ContainerInspectRequest inspect;
  inspect.set_id("web");
  auto info = client.containerInspect(inspect);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->summary().id(), "web");
  EXPECT_TRUE(info->oom_killed());

  pb::ContainerUpdateRequest update;
  update.set_id("web");
  update.set_memory_bytes(0);  // explicit "unlimited", not "unchanged"
  auto updated = client.containerUpdate(update);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->warnings(0), "mem 0 nopids");
}

TEST_F(ClientTest, ArgvEnvAndPathsMayBeAnyBytes) {
  ServedPair pair(handler);
  Client client = connect(pair);
  pb::ContainerCreateRequest create;
  create.mutable_spec()->set_name("bin");
  create.mutable_spec()->add_cmd("printf");
  create.mutable_spec()->add_cmd("\xff\xfe");  // not UTF-8, fine for execve
  create.mutable_spec()->add_env("LANG=\xe9");
  create.mutable_spec()->set_workdir("/d\x80");
  ASSERT_TRUE(client.containerCreate(create).ok());
  EXPECT_EQ(handler.lastSpec.cmd(1), "\xff\xfe");
  EXPECT_EQ(handler.lastSpec.env(0), "LANG=\xe9");
  EXPECT_EQ(handler.lastSpec.workdir(), "/d\x80");
}

TEST_F(ClientTest, PullStreamsProgressThenTheImage) {
  ServedPair pair(handler);
  Client client = connect(pair);
  pb::ImagePullRequest pull;
  pull.set_reference("debian:12");
  pull.set_platform("linux/arm64/v8");
  std::vector<std::uint64_t> seen;
  auto pulled = client.imagePull(pull, [&](const pb::PullProgress& p) {
    seen.push_back(p.current());
    return true;
  });
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{10, 20, 30}));
  EXPECT_EQ(pulled->image().references(0), "debian:12");
  EXPECT_EQ(pulled->image().platform(), "linux/arm64/v8");
}

TEST_F(ClientTest, LogsStreamInOrderWithStreams) {
  ServedPair pair(handler);
  Client client = connect(pair);
  pb::LogsRequest request;
  request.set_id("web");
  request.set_tail(10);
  std::string text;
  auto end = client.logs(request, [&](const pb::LogEntry& e) {
    text += (e.stream() == pb::OUTPUT_STDERR ? "E:" : "O:") + e.data();
    return true;
  });
  ASSERT_TRUE(end.ok()) << end.error().str();
  EXPECT_EQ(text, "O:line 0\nE:line 1\nO:line 2\nE:line 3\nO:line 4\n");
}

TEST_F(ClientTest, StoppingAFollowCancelsItOnTheDaemon) {
  ServedPair pair(handler);
  Client client = connect(pair);
  pb::LogsRequest request;
  request.set_follow(true);
  int entries = 0;
  auto end = client.logs(request, [&](const pb::LogEntry&) { return ++entries < 5; });
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().code, pb::CANCELLED);
  pair.join();
  EXPECT_TRUE(handler.followSawCancel);
}

TEST_F(ClientTest, StatsOneShot) {
  ServedPair pair(handler);
  Client client = connect(pair);
  pb::StatsRequest request;
  request.add_ids("web");
  std::vector<pb::ContainerStats> got;
  auto end = client.stats(request, [&](const pb::StatsBatch& b) {
    got.assign(b.containers().begin(), b.containers().end());
    return true;
  });
  ASSERT_TRUE(end.ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id(), "web");
  EXPECT_DOUBLE_EQ(got[0].cpu_percent(), 12.5);
  EXPECT_EQ(got[0].pids(), 4u);
}

TEST_F(ClientTest, StreamingCallUsesUpAnFdClient) {
  ServedPair pair(handler);
  Client client = connect(pair);
  ASSERT_TRUE(client.stats(pb::StatsRequest(), [](const pb::StatsBatch&) { return true; }).ok());
  auto after = client.imageList(pb::ImageListRequest());
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, pb::UNAVAILABLE);
}

TEST_F(ClientTest, ExecIsBidirectional) {
  ServedPair pair(handler);
  Client client = connect(pair);
  pb::ExecStart start;
  start.set_id("web");
  start.add_cmd("cat");
  auto session = client.exec(start);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(session->sendStdin("hello"));
  ASSERT_TRUE(session->resize(24, 80));
  ASSERT_TRUE(session->signal(2));
  ASSERT_TRUE(session->closeStdin());
  std::vector<std::string> out;
  for (;;) {
    auto chunk = session->receive();
    ASSERT_TRUE(chunk.ok()) << chunk.error().str();
    if (!chunk->has_value()) break;
    out.push_back(((*chunk)->stream() == pb::OUTPUT_STDERR ? "E:" : "O:") + (*chunk)->data());
  }
  EXPECT_EQ(out, (std::vector<std::string>{"O:hello", "E:resize 24x80", "E:signal 2"}));
  EXPECT_EQ(session->exitStatus().code(), 4);  // three inputs + close_stdin
}

TEST_F(ClientTest, ExecLargeStdinIsChunkedAndArrivesWhole) {
  ServedPair pair(handler);
  Client client = connect(pair);
  auto session = client.exec(pb::ExecStart());
  ASSERT_TRUE(session.ok());
  std::string big(6 << 20, 'z');  // over the frame limit: must be split
  std::thread pump([&] {
    EXPECT_TRUE(session->sendStdin(big));
    EXPECT_TRUE(session->closeStdin());
  });
  std::size_t received = 0;
  for (;;) {
    auto chunk = session->receive();
    ASSERT_TRUE(chunk.ok()) << chunk.error().str();
    if (!chunk->has_value()) break;
    received += (*chunk)->data().size();
  }
  pump.join();
  EXPECT_EQ(received, big.size());
}

TEST_F(ClientTest, ExecErrorArrivesAsTheFirstFrame) {
  ServedPair pair(handler);
  Client client = connect(pair);
  pb::ExecStart start;
  start.set_id("stopped");
  auto session = client.exec(start);
  ASSERT_TRUE(session.ok());
  auto chunk = session->receive();
  ASSERT_FALSE(chunk.ok());
  EXPECT_EQ(chunk.error().code, pb::FAILED_PRECONDITION);
}

TEST_F(ClientTest, ExecClientHangUpIsSeenAsCancel) {
  ServedPair pair(handler);
  Client client = connect(pair);
  auto session = client.exec(pb::ExecStart());
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(session->sendStdin("x"));
  session->close();
  pair.join();
  EXPECT_TRUE(handler.execSawCancel);
}

TEST_F(ClientTest, AttachAndShellReachTheirHandlers) {
  {
    ServedPair pair(handler);
    Client client = connect(pair);
    pb::AttachStart attach;
    attach.set_id("web");
    attach.set_start(true);
    auto session = client.attach(attach);
    ASSERT_TRUE(session.ok());
    auto chunk = session->receive();
    ASSERT_TRUE(chunk.ok() && chunk->has_value());
    EXPECT_EQ((*chunk)->data(), "attached web started");
    chunk = session->receive();
    ASSERT_TRUE(chunk.ok());
    EXPECT_FALSE(chunk->has_value());
    EXPECT_EQ(session->exitStatus().code(), 137);
    EXPECT_EQ(session->exitStatus().signal(), 9);
  }
  {
    ServedPair pair(handler);  // FakeHandler leaves shell unimplemented
    Client client = connect(pair);
    auto session = client.shell(pb::ShellStart());
    ASSERT_TRUE(session.ok());
    auto chunk = session->receive();
    ASSERT_FALSE(chunk.ok());
    EXPECT_EQ(chunk.error().code, pb::UNIMPLEMENTED);
  }
}

TEST(ClientSocketPath, FlagThenEnvironmentThenDefault) {
  const char* saved = std::getenv("BERTH_SOCKET");
  std::string keep = saved ? saved : "";
  ::setenv("BERTH_SOCKET", "/env.sock", 1);
  EXPECT_EQ(resolveSocketPath("/flag.sock"), "/flag.sock");
  EXPECT_EQ(resolveSocketPath(""), "/env.sock");
  ::unsetenv("BERTH_SOCKET");
  EXPECT_EQ(resolveSocketPath(""), "/run/berth/berthd.sock");
  if (saved) ::setenv("BERTH_SOCKET", keep.c_str(), 1);
}

TEST(ClientConnect, MissingSocketSaysWhatToCheck) {
  auto client = Client::connect("/nonexistent-" + std::to_string(::getpid()) + "/berthd.sock");
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, pb::UNAVAILABLE);
  EXPECT_NE(client.error().message.find("is berthd running"), std::string::npos);
}

}  // namespace
}  // namespace berth::agent::api
