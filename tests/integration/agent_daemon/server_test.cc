// berthd's accept loop: peers outside root and the socket's group are
// refused before anything is read, others are served, concurrently, and
// drain() hangs up on a client that is in the middle of a stream.
#include "agent/daemon/server.h"

#include <gtest/gtest.h>
#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "agent/api/client.h"
#include "runtime/sys/fs.h"

namespace berth::agent::daemon {
namespace {

namespace pb = ::berth::api;
constexpr uid_t kNobody = 65534;

// Lists one image; its logs stream never ends by itself.
class TestHandler : public api::Handler {
 public:
  api::CallResult<pb::ImageListReply> imageList(const pb::ImageListRequest&) override {
    pb::ImageListReply reply;
    reply.add_images()->set_id("sha256:test");
    return reply;
  }
  api::CallResult<pb::StreamEnd> logs(const pb::LogsRequest&,
                                      api::StreamWriter<pb::LogEntry>& entries) override {
    pb::LogEntry entry;
    entry.set_data("first\n");
    if (!entries.send(entry)) return api::CallError(pb::CANCELLED, "gone");
    streaming = true;
    struct pollfd pfd = {entries.cancelFd(), POLLIN, 0};
    ::poll(&pfd, 1, 30000);
    return api::CallError(pb::CANCELLED, "client gone");
  }
  std::atomic<bool> streaming{false};
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a peer with another uid)";
    char tmpl[] = "/tmp/berth-server-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    api::ListenOptions listen;
    listen.path = dir_ + "/berthd.sock";
    listen.group = "";  // owner only
    auto listener = api::listenUnix(listen);
    ASSERT_TRUE(listener) << listener.error().what();
    path_ = listener->path;
    auto policy = api::accessPolicy("berth-test-no-such-group");
    ASSERT_TRUE(policy) << policy.error().what();
    server_ = std::make_unique<Server>(std::move(*listener), *policy, handler_);
    stop_ = sys::UniqueFd(::eventfd(0, EFD_CLOEXEC));
    loop_ = std::thread([this] { ASSERT_TRUE(server_->run(stop_.get())); });
  }
  void TearDown() override {
    if (loop_.joinable()) {
      uint64_t one = 1;
      ASSERT_EQ(::write(stop_.get(), &one, sizeof one), 8);
      loop_.join();
    }
    server_.reset();
    if (!dir_.empty()) (void)sys::removeAll(dir_).ok();
  }

  std::string dir_, path_;
  TestHandler handler_;
  std::unique_ptr<Server> server_;
  sys::UniqueFd stop_;
  std::thread loop_;
};

TEST_F(ServerTest, RootIsServedConcurrently) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      auto client = api::Client::connect(path_);
      if (!client) return;
      auto list = client->imageList({});
      if (list && list->images_size() == 1) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 8);
}

TEST_F(ServerTest, OtherUsersAreRefusedWithPermissionDenied) {
  // The socket file would already stop nobody at connect(); open the mode so
  // the daemon's own credential check is what refuses.
  ASSERT_EQ(::chmod(path_.c_str(), 0666), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) < 0 || ::setresgid(kNobody, kNobody, kNobody) < 0 ||
        ::setresuid(kNobody, kNobody, kNobody) < 0) {
      ::_exit(10);
    }
    auto client = api::Client::connect(path_);
    if (client) ::_exit(11);
    if (client.error().code != pb::PERMISSION_DENIED) ::_exit(12);
    if (client.error().message.find("berth") == std::string::npos) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: setuid, 11: served, 12: wrong code, 13: no hint";
}

TEST_F(ServerTest, DrainHangsUpOnStreamingClients) {
  auto client = api::Client::connect(path_);
  ASSERT_TRUE(client) << client.error().str();
  std::atomic<bool> ended{false};
  std::thread reader([&] {
    pb::LogsRequest request;
    request.set_follow(true);
    auto end = client->logs(request, [](const pb::LogEntry&) { return true; });
    EXPECT_FALSE(end);
    ended = true;
  });
  for (int i = 0; i < 200 && !handler_.streaming; ++i) ::usleep(10000);
  ASSERT_TRUE(handler_.streaming);
  EXPECT_EQ(server_->activeConnections(), 1u);
  EXPECT_TRUE(server_->drain(std::chrono::seconds(5)));
  reader.join();
  EXPECT_TRUE(ended);
  EXPECT_EQ(server_->activeConnections(), 0u);
}

}  // namespace
}  // namespace berth::agent::daemon
