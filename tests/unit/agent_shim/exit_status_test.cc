// exit.json: what berthd reads to apply the restart policy.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/shim/exit_status.h"
#include "runtime/sys/fs.h"

namespace berth::agent::shim {
namespace {

// Real wait statuses, from real children.
int waitStatusOf(void (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) body();
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(ExitStatus, FromExitedAndKilledChildren) {
  int exited = waitStatusOf([] { ::_exit(3); });
  ExitStatus s = exitStatusFromWait(exited, 42);
  EXPECT_EQ(s.exitCode, 3);
  EXPECT_EQ(s.signal, 0);
  EXPECT_EQ(s.finishedAtNs, 42);

  int killed = waitStatusOf([] {
    ::kill(::getpid(), SIGKILL);
    ::_exit(0);
  });
  s = exitStatusFromWait(killed, 0);
  EXPECT_EQ(s.signal, 9);
  EXPECT_EQ(s.exitCode, 137);
}

TEST(ExitStatus, FormatsRfc3339WithNanos) {
  EXPECT_EQ(formatRfc3339Nanos(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(formatRfc3339Nanos(1714557600123456789), "2024-05-01T10:00:00.123456789Z");
  auto back = parseRfc3339Nanos("2024-05-01T10:00:00.123456789Z");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, 1714557600123456789);
  auto shortFraction = parseRfc3339Nanos("2024-05-01T10:00:00.5Z");
  ASSERT_TRUE(shortFraction);
  EXPECT_EQ(*shortFraction, 1714557600500000000);
  EXPECT_FALSE(parseRfc3339Nanos("2024-05-01 10:00:00Z"));
  EXPECT_FALSE(parseRfc3339Nanos("2024-05-01T10:00:00.1Zjunk"));
}

TEST(ExitStatus, JsonRoundTrip) {
  ExitStatus s{137, 9, 1714557600123456789};
  std::string json = encodeExitJson(s);
  EXPECT_EQ(json, "{\"exitCode\":137,\"signal\":9,\"finishedAt\":\"2024-05-01T10:00:00.123456789Z\"}\n");
  auto back = parseExitJson(json);
  ASSERT_TRUE(back) << back.error().str();
  EXPECT_EQ(*back, s);
}

TEST(ExitStatus, ParseRejectsMalformed) {
  for (const char* bad : {"", "[]", "{\"exitCode\":1}", "{\"exitCode\":\"1\",\"signal\":0,\"finishedAt\":\"x\"}",
                          "{\"exitCode\":1,\"signal\":0,\"finishedAt\":\"yesterday\"}", "{\"exitCode\":1,"}) {
    EXPECT_FALSE(parseExitJson(bad)) << bad;
  }
}

TEST(ExitStatus, FileWrittenAndReadBack) {
  std::string dir = "/tmp/berth-unit-exit-" + std::to_string(::getpid());
  ASSERT_TRUE(sys::mkdirAll(dir));
  ExitStatus s{3, 0, realtimeNowNs()};
  ASSERT_TRUE(writeExitFile(dir, s));
  auto back = readExitFile(dir);
  (void)sys::removeAll(dir);
  ASSERT_TRUE(back) << back.error().str();
  EXPECT_EQ(*back, s);
}

}  // namespace
}  // namespace berth::agent::shim
