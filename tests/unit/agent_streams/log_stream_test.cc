// streamLogs over a real log written by LogWriter and a fake ContainerAccess:
// tail, since, until, partial entries of long lines, and follow ending when
// the shim exits or the client cancels.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

#include "agent/logs/writer.h"
#include "agent/shim/shim.h"
#include "agent/streams/log_stream.h"
#include "runtime/sys/fs.h"
#include "tests/unit/agent_streams/fakes.h"

namespace berth::tests::streams {
namespace {

using agent::logs::LogWriter;
using agent::logs::Stream;
using namespace std::chrono_literals;

class LogStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = "/tmp/berth-unit-logstream-" + std::string(info->name()) + "-" + std::to_string(::getpid());
    ASSERT_TRUE(sys::mkdirAll(dir_));
    ContainerView v;
    v.id = "c1";
    v.name = "web";
    v.dir = dir_;
    v.state = pb::STATE_RUNNING;
    access_.views["c1"] = v;
    event_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    access_.shimEvent = event_;
    auto w = LogWriter::open(dir_, agent::shim::kLogBaseName);
    ASSERT_TRUE(w) << w.error().str();
    writer_.emplace(std::move(*w));
  }
  void TearDown() override {
    writer_.reset();
    ::close(event_);
    (void)sys::removeAll(dir_);
  }

  void write(Stream s, const std::string& text, int64_t timeNs) {
    auto r = writer_->write(s, text, timeNs);
    ASSERT_TRUE(r) << r.error().str();
  }

  CallResult<pb::StreamEnd> run(const pb::LogsRequest& request) {
    agent::api::StreamWriter<pb::LogEntry> out(sink_, &pb::Response::mutable_log);
    return agent::streams::streamLogs(access_, request, out);
  }

  std::vector<pb::LogEntry> entries() const {
    std::vector<pb::LogEntry> out;
    for (const auto& f : sink_.frames) out.push_back(f.log());
    return out;
  }
  // The lines the entries carry (an entry holds lines ended by '\n').
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& e : entries()) {
      std::string_view data = e.data();
      while (!data.empty()) {
        size_t nl = data.find('\n');
        out.emplace_back(data.substr(0, nl));
        data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
      }
    }
    return out;
  }

  std::string dir_;
  int event_ = -1;
  FakeAccess access_;
  RecordingSink sink_;
  std::optional<LogWriter> writer_;
};

TEST_F(LogStreamTest, SendsEveryLineWithTimestampAndStream) {
  write(Stream::kStdout, "one\ntwo\n", 1000);
  write(Stream::kStderr, "oops\n", 2000);
  pb::LogsRequest req;
  req.set_id("c1");
  auto r = run(req);
  ASSERT_TRUE(r) << r.error().str();
  auto e = entries();
  // Lines of one read share an entry; another stream or time starts one.
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].data(), "one\ntwo\n");
  EXPECT_EQ(e[0].timestamp_ns(), 1000);
  EXPECT_EQ(e[0].stream(), pb::OUTPUT_STDOUT);
  EXPECT_FALSE(e[0].partial());
  EXPECT_EQ(e[1].data(), "oops\n");
  EXPECT_EQ(e[1].stream(), pb::OUTPUT_STDERR);
  EXPECT_EQ(e[1].timestamp_ns(), 2000);
}

TEST_F(LogStreamTest, ManyShortLinesGoInFewEntries) {
  std::string chunk;
  for (int i = 0; i < 20000; ++i) chunk += "line " + std::to_string(i) + "\n";
  write(Stream::kStdout, chunk, 1000);
  write(Stream::kStdout, "next read\n", 2000);
  pb::LogsRequest req;
  req.set_id("c1");
  ASSERT_TRUE(run(req));
  auto e = entries();
  ASSERT_LE(e.size(), 3u);  // ~190 KB of lines in one entry, then the next read
  std::string joined;
  for (size_t i = 0; i + 1 < e.size(); ++i) joined += e[i].data();
  EXPECT_EQ(joined, chunk);
  EXPECT_EQ(e.back().data(), "next read\n");
  EXPECT_EQ(e.back().timestamp_ns(), 2000);
  EXPECT_EQ(texts().size(), 20001u);
}

TEST_F(LogStreamTest, TailSinceAndUntil) {
  write(Stream::kStdout, "a\n", 1000);
  write(Stream::kStdout, "b\n", 2000);
  write(Stream::kStdout, "c\n", 3000);
  write(Stream::kStdout, "d\n", 4000);
  pb::LogsRequest req;
  req.set_id("c1");
  req.set_tail(2);
  ASSERT_TRUE(run(req));
  EXPECT_EQ(texts(), (std::vector<std::string>{"c", "d"}));

  sink_.frames.clear();
  req.clear_tail();
  req.set_since_ns(2000);
  req.set_until_ns(3000);
  ASSERT_TRUE(run(req));
  EXPECT_EQ(texts(), (std::vector<std::string>{"b", "c"}));

  sink_.frames.clear();
  req.set_tail(0);
  ASSERT_TRUE(run(req));
  EXPECT_TRUE(texts().empty());
}

TEST_F(LogStreamTest, LongLineArrivesAsPartialEntriesBelowTheFrameLimit) {
  std::string line(600 * 1024, 'x');
  for (size_t i = 0; i < line.size(); i += 997) line[i] = static_cast<char>('a' + i % 26);
  write(Stream::kStdout, line + "\nshort\n", 1000);
  pb::LogsRequest req;
  req.set_id("c1");
  ASSERT_TRUE(run(req));
  auto e = entries();
  ASSERT_GE(e.size(), 3u);
  std::string joined;
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_LE(e[i].data().size(), agent::streams::kMaxLogEntryData);
    EXPECT_LT(e[i].ByteSizeLong(), agent::api::kMaxFrameSize);
    // Every entry but the last ends inside the long line.
    EXPECT_EQ(e[i].partial(), i + 1 < e.size()) << i;
    joined += e[i].data();
  }
  EXPECT_TRUE(joined == line + "\nshort\n") << "the entries do not join into the lines";
  EXPECT_EQ(texts().back(), "short");
}

TEST_F(LogStreamTest, FollowSendsNewLinesAndEndsWhenTheShimExits) {
  write(Stream::kStdout, "before\n", 1000);
  pb::LogsRequest req;
  req.set_id("c1");
  req.set_follow(true);
  std::thread writerThread([&] {
    std::this_thread::sleep_for(100ms);
    write(Stream::kStdout, "during\n", 2000);
    std::this_thread::sleep_for(100ms);
    // The shim writes its last record, then exits.
    write(Stream::kStderr, "last\n", 3000);
    fireEventFd(event_);
  });
  auto start = std::chrono::steady_clock::now();
  auto r = run(req);
  writerThread.join();
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(texts(), (std::vector<std::string>{"before", "during", "last"}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(LogStreamTest, FollowEndsWhenTheClientCancels) {
  write(Stream::kStdout, "x\n", 1000);
  pb::LogsRequest req;
  req.set_id("c1");
  req.set_follow(true);
  std::thread canceller([&] {
    std::this_thread::sleep_for(150ms);
    sink_.cancel();
  });
  auto r = run(req);
  canceller.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::CANCELLED);
  EXPECT_EQ(texts(), (std::vector<std::string>{"x"}));
}

TEST_F(LogStreamTest, FollowOfAStoppedContainerReturnsTheLog) {
  access_.views["c1"].state = pb::STATE_EXITED;
  write(Stream::kStdout, "done\n", 1000);
  pb::LogsRequest req;
  req.set_id("c1");
  req.set_follow(true);
  auto r = run(req);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(texts(), (std::vector<std::string>{"done"}));
}

TEST_F(LogStreamTest, UnknownContainerIsNotFound) {
  pb::LogsRequest req;
  req.set_id("nope");
  auto r = run(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::NOT_FOUND);
}

}  // namespace
}  // namespace berth::tests::streams
