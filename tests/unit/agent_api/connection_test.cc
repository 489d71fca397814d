// The server state machine driven with raw frames: hello first, version
// check, out-of-order, malformed, oversized and truncated frames each get an
// error reply and a closed connection, never a crash or a hang.
#include "agent/api/connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "agent/api/framing.h"
#include "fake_handler.h"

namespace berth::agent::api {
namespace {

using testing::FakeHandler;
using testing::ServedPair;

pb::Request helloRequest(std::uint32_t protocol = kProtocolVersion) {
  pb::Request request;
  request.mutable_hello()->set_client_version("test");
  request.mutable_hello()->set_protocol_version(protocol);
  return request;
}

void sendRaw(int fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

// Reads the next reply and then expects the server to have closed.
pb::Response replyThenEof(FrameReader& reader) {
  pb::Response response;
  EXPECT_EQ(reader.read(&response), ReadStatus::kOk) << reader.lastError();
  pb::Response extra;
  EXPECT_EQ(reader.read(&extra), ReadStatus::kEof);
  return response;
}

class ConnectionTest : public ::testing::Test {
 protected:
  FakeHandler handler;
};

TEST_F(ConnectionTest, HelloIsAnsweredWithDaemonVersion) {
  ServerOptions options;
  options.daemonVersion = "9.9.9";
  ServedPair pair(handler, options);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  pb::Response response;
  ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
  ASSERT_TRUE(response.has_hello());
  EXPECT_EQ(response.hello().daemon_version(), "9.9.9");
  EXPECT_EQ(response.hello().protocol_version(), kProtocolVersion);
}

TEST_F(ConnectionTest, RequestBeforeHelloIsFailedPrecondition) {
  ServedPair pair(handler);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  pb::Request request;
  request.mutable_container_list();
  ASSERT_TRUE(writer.write(request).ok());
  pb::Response response = replyThenEof(reader);
  ASSERT_TRUE(response.has_error());
  EXPECT_EQ(response.error().code(), pb::FAILED_PRECONDITION);
  EXPECT_NE(response.error().message().find("hello"), std::string::npos);
}

TEST_F(ConnectionTest, ProtocolMismatchIsVersionMismatchAndClosed) {
  ServerOptions options;
  options.daemonVersion = "1.0.0";
  ServedPair pair(handler, options);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest(kProtocolVersion + 1)).ok());
  pb::Response response = replyThenEof(reader);
  ASSERT_TRUE(response.has_error());
  EXPECT_EQ(response.error().code(), pb::VERSION_MISMATCH);
  EXPECT_NE(response.error().message().find("berthd 1.0.0 speaks protocol 1"), std::string::npos)
      << response.error().message();
}

TEST_F(ConnectionTest, SecondHelloIsOutOfOrder) {
  ServedPair pair(handler);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  pb::Response response;
  ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
  EXPECT_TRUE(response.has_hello());
  response = replyThenEof(reader);
  EXPECT_EQ(response.error().code(), pb::FAILED_PRECONDITION);
}

TEST_F(ConnectionTest, StreamInputOutsideAStreamIsOutOfOrder) {
  ServedPair pair(handler);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  pb::Request input;
  input.mutable_stream_input()->set_stdin("x");
  ASSERT_TRUE(writer.write(input).ok());
  pb::Response response;
  ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
  response = replyThenEof(reader);
  EXPECT_EQ(response.error().code(), pb::FAILED_PRECONDITION);
}

TEST_F(ConnectionTest, EmptyRequestIsInvalidArgument) {
  ServedPair pair(handler);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  ASSERT_TRUE(writer.write(pb::Request()).ok());
  pb::Response response;
  ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
  response = replyThenEof(reader);
  EXPECT_EQ(response.error().code(), pb::INVALID_ARGUMENT);
}

TEST_F(ConnectionTest, OversizedFrameIsResourceExhaustedAndClosed) {
  ServedPair pair(handler);
  FrameReader reader(pair.clientFd());
  // 8 MiB announced, nothing sent: the reply must come without the body.
  sendRaw(pair.clientFd(), std::string("\x80\x80\x80\x04", 4));
  pb::Response response = replyThenEof(reader);
  EXPECT_EQ(response.error().code(), pb::RESOURCE_EXHAUSTED);
  EXPECT_NE(response.error().message().find("8388608"), std::string::npos);
}

TEST_F(ConnectionTest, GarbageBytesAreInvalidArgument) {
  ServedPair pair(handler);
  FrameReader reader(pair.clientFd());
  sendRaw(pair.clientFd(), std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff", 9));
  pb::Response response = replyThenEof(reader);
  EXPECT_EQ(response.error().code(), pb::INVALID_ARGUMENT);
}

TEST_F(ConnectionTest, TruncatedFrameEndsTheConnection) {
  ServedPair pair(handler);
  sendRaw(pair.clientFd(), std::string("\x20\x0a\x02", 3));
  ::shutdown(pair.clientFd(), SHUT_WR);
  FrameReader reader(pair.clientFd());
  pb::Response response = replyThenEof(reader);
  EXPECT_EQ(response.error().code(), pb::INVALID_ARGUMENT);
  EXPECT_NE(response.error().message().find("closed inside a frame"), std::string::npos);
}

TEST_F(ConnectionTest, StalledClientDoesNotWedgeTheServer) {
  ServerOptions options;
  options.frames.frameTimeoutMs = 100;
  ServedPair pair(handler, options);
  sendRaw(pair.clientFd(), std::string("\x20\x0a", 2));  // half a frame, then silence
  FrameReader reader(pair.clientFd());
  pb::Response response = replyThenEof(reader);
  EXPECT_EQ(response.error().code(), pb::DEADLINE_EXCEEDED);
}

TEST_F(ConnectionTest, ClientHangUpEndsServeQuietly) {
  ServedPair pair(handler);
  {
    FrameWriter writer(pair.clientFd());
    ASSERT_TRUE(writer.write(helloRequest()).ok());
  }
  sys::UniqueFd fd = pair.takeClientFd();
  fd.reset();
  pair.join();  // returns: the server noticed and ended
}

TEST_F(ConnectionTest, UnimplementedCallKeepsTheConnection) {
  Handler bare;  // all defaults
  ServedPair pair(bare);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  pb::Request list;
  list.mutable_image_list();
  ASSERT_TRUE(writer.write(list).ok());
  ASSERT_TRUE(writer.write(list).ok());
  pb::Response response;
  ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
    EXPECT_EQ(response.error().code(), pb::UNIMPLEMENTED);
    EXPECT_NE(response.error().message().find("image list"), std::string::npos);
  }
}

TEST_F(ConnectionTest, StreamEndsTheConnectionAfterItsTerminalFrame) {
  ServedPair pair(handler);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  pb::Request logs;
  logs.mutable_logs()->set_id("web");
  ASSERT_TRUE(writer.write(logs).ok());
  pb::Response response;
  ASSERT_EQ(reader.read(&response), ReadStatus::kOk);  // hello
  int items = 0;
  for (;;) {
    ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
    if (!response.has_log()) break;
    ++items;
  }
  EXPECT_EQ(items, 5);
  EXPECT_TRUE(response.has_stream_end());
  EXPECT_EQ(reader.read(&response), ReadStatus::kEof);
}

TEST_F(ConnectionTest, OtherCallDuringAStreamCancelsIt) {
  ServedPair pair(handler);
  FrameWriter writer(pair.clientFd());
  FrameReader reader(pair.clientFd());
  ASSERT_TRUE(writer.write(helloRequest()).ok());
  pb::Request logs;
  logs.mutable_logs()->set_follow(true);
  ASSERT_TRUE(writer.write(logs).ok());
  pb::Request other;
  other.mutable_container_list();
  ASSERT_TRUE(writer.write(other).ok());
  pb::Response response;
  do {
    ASSERT_EQ(reader.read(&response), ReadStatus::kOk);
  } while (response.has_hello() || response.has_log());
  EXPECT_EQ(response.error().code(), pb::CANCELLED);
  EXPECT_TRUE(handler.followSawCancel);
}

TEST(StatusTest, SysErrorsMapToCodes) {
  EXPECT_EQ(CallError::fromSys(sys::Error(ENOENT, "x")).code, pb::NOT_FOUND);
  EXPECT_EQ(CallError::fromSys(sys::Error(EEXIST, "x")).code, pb::ALREADY_EXISTS);
  EXPECT_EQ(CallError::fromSys(sys::Error(EACCES, "x")).code, pb::PERMISSION_DENIED);
  EXPECT_EQ(CallError::fromSys(sys::Error::invalid("bad")).code, pb::INVALID_ARGUMENT);
  EXPECT_EQ(CallError::fromSys(sys::Error(EIO, "x")).code, pb::INTERNAL);
  CallError e = CallError::fromSys(sys::Error(ENOENT, "open /x"));
  EXPECT_EQ(e.str(), "not found: open /x: No such file or directory");
  pb::Error proto;  // a reply without code must not read as success
  EXPECT_EQ(CallError::fromProto(proto).code, pb::INTERNAL);
}

}  // namespace
}  // namespace berth::agent::api
