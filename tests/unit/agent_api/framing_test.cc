// Frame reader/writer behaviour on real sockets: round trips, the size limit
// enforced before reading a body, EOF vs truncation, garbage, timeouts.
#include "agent/api/framing.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "agent/api/berth.pb.h"
#include "runtime/sys/fd.h"

namespace berth::agent::api {
namespace {

struct Pair {
  sys::UniqueFd a, b;
};

Pair socketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {sys::UniqueFd(fds[0]), sys::UniqueFd(fds[1])};
}

void sendRaw(int fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

std::string varint(std::uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

TEST(Framing, RoundTripsSeveralFramesInOneBuffer) {
  auto [a, b] = socketPair();
  FrameWriter writer(a.get());
  for (int i = 0; i < 3; ++i) {
    ::berth::api::Request request;
    request.mutable_container_start()->set_id("c" + std::to_string(i));
    ASSERT_TRUE(writer.write(request).ok());
  }
  a.reset();
  FrameReader reader(b.get());
  for (int i = 0; i < 3; ++i) {
    ::berth::api::Request request;
    ASSERT_EQ(reader.read(&request), ReadStatus::kOk);
    EXPECT_EQ(request.container_start().id(), "c" + std::to_string(i));
  }
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kEof);
}

TEST(Framing, EmptyMessageIsAValidFrame) {
  auto [a, b] = socketPair();
  sendRaw(a.get(), std::string(1, '\0'));
  FrameReader reader(b.get());
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kOk);
  EXPECT_EQ(request.call_case(), ::berth::api::Request::CALL_NOT_SET);
}

TEST(Framing, LargeFrameWithinLimitArrivesWhole) {
  auto [a, b] = socketPair();
  ::berth::api::Response response;
  response.mutable_log()->set_data(std::string(3 << 20, 'x'));
  std::thread writerThread([&, fd = a.get()] {
    FrameWriter writer(fd);
    EXPECT_TRUE(writer.write(response).ok());
  });
  FrameReader reader(b.get());
  ::berth::api::Response got;
  EXPECT_EQ(reader.read(&got), ReadStatus::kOk);
  writerThread.join();
  EXPECT_EQ(got.log().data().size(), 3u << 20);
}

TEST(Framing, OversizedAnnouncementIsRefusedBeforeTheBodyArrives) {
  auto [a, b] = socketPair();
  // Announce 1 GiB and send nothing more: the reader must answer at once
  // (it neither waits for nor allocates the body).
  sendRaw(a.get(), varint(1u << 30));
  FrameReader reader(b.get());
  ::berth::api::Request request;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(reader.read(&request), ReadStatus::kTooLarge);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(reader.lastAnnouncedSize(), 1u << 30);
  EXPECT_NE(reader.lastError().find("exceeds the limit"), std::string::npos);
}

TEST(Framing, LimitIsConfigurableAndExact) {
  FrameOptions options;
  options.maxFrameSize = 10;
  ::berth::api::Request request;
  {
    auto [a, b] = socketPair();
    sendRaw(a.get(), varint(10) + std::string(10, '\0'));  // zero bytes: invalid tag 0
    FrameReader reader(b.get(), options);
    EXPECT_EQ(reader.read(&request), ReadStatus::kMalformed);  // 10 passes the limit
  }
  {
    auto [a, b] = socketPair();
    sendRaw(a.get(), varint(11));
    FrameReader reader(b.get(), options);
    EXPECT_EQ(reader.read(&request), ReadStatus::kTooLarge);
  }
}

TEST(Framing, OverlongLengthPrefixIsTooLarge) {
  auto [a, b] = socketPair();
  sendRaw(a.get(), std::string(6, '\x80') + std::string(1, '\x01'));
  FrameReader reader(b.get());
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kTooLarge);
}

TEST(Framing, CloseInsideTheBodyIsTruncatedNotEof) {
  auto [a, b] = socketPair();
  sendRaw(a.get(), varint(100) + std::string(40, '\0'));
  a.reset();
  FrameReader reader(b.get());
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kTruncated);
}

TEST(Framing, CloseInsideTheLengthPrefixIsTruncated) {
  auto [a, b] = socketPair();
  sendRaw(a.get(), std::string(1, '\x80'));
  a.reset();
  FrameReader reader(b.get());
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kTruncated);
}

TEST(Framing, GarbageBodyIsMalformed) {
  auto [a, b] = socketPair();
  std::string garbage = "\xff\xff\xff\xff\xff\xff\xff\xff";
  sendRaw(a.get(), varint(garbage.size()) + garbage);
  FrameReader reader(b.get());
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kMalformed);
  // A failed reader stays failed: the stream position is unknown.
  EXPECT_NE(reader.read(&request), ReadStatus::kOk);
}

TEST(Framing, StalledFrameTimesOut) {
  auto [a, b] = socketPair();
  FrameOptions options;
  options.frameTimeoutMs = 100;
  sendRaw(a.get(), varint(50) + "abc");
  FrameReader reader(b.get(), options);
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kTimeout);
}

TEST(Framing, IdleTimeoutOnlyWhenAsked) {
  auto [a, b] = socketPair();
  FrameOptions options;
  options.idleTimeoutMs = 50;
  FrameReader reader(b.get(), options);
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kTimeout);
}

TEST(Framing, InterruptFdWakesABlockedReader) {
  auto [a, b] = socketPair();
  sys::UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(stop);
  FrameReader reader(b.get(), {}, stop.get());
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::uint64_t one = 1;
    EXPECT_EQ(::write(stop.get(), &one, sizeof one), 8);
  });
  ::berth::api::Request request;
  EXPECT_EQ(reader.read(&request), ReadStatus::kInterrupted);
  waker.join();
}

TEST(Framing, WriterRefusesFramesOverTheLimit) {
  auto [a, b] = socketPair();
  FrameOptions options;
  options.maxFrameSize = 16;
  FrameWriter writer(a.get(), options);
  ::berth::api::Response response;
  response.mutable_log()->set_data(std::string(64, 'x'));
  auto written = writer.write(response);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), EMSGSIZE);
}

TEST(Framing, WriteToAClosedPeerFailsWithoutSigpipe) {
  auto [a, b] = socketPair();
  b.reset();
  FrameWriter writer(a.get());
  ::berth::api::Response response;
  response.mutable_hello()->set_daemon_version("x");
  // With write() instead of send(MSG_NOSIGNAL) this would kill the process.
  auto written = writer.write(response);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), EPIPE);
}

TEST(Framing, WriteToAPeerThatNeverReadsTimesOut) {
  auto [a, b] = socketPair();
  FrameOptions options;
  options.writeTimeoutMs = 100;
  FrameWriter writer(a.get(), options);
  ::berth::api::Response response;
  response.mutable_log()->set_data(std::string(1 << 20, 'x'));
  sys::Result<void> written;
  for (int i = 0; i < 64 && written.ok(); ++i) written = writer.write(response);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), ETIMEDOUT);
}

}  // namespace
}  // namespace berth::agent::api
