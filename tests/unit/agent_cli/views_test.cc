// Tables, JSON documents, pull progress and log printing.
#include <gtest/gtest.h>

#include <sstream>

#include "agent/cli/json_views.h"
#include "agent/cli/log_printer.h"
#include "agent/cli/progress.h"
#include "agent/cli/table_views.h"

namespace berth::agent::cli {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kNow = 1'700'000'000 * kS;

TEST(Table, AlignsColumnsWithThreeSpaces) {
  Table t({"A", "LONG HEADER", "C"});
  t.add({"xxxxx", "y", "z"});
  t.add({"1", "2", ""});
  EXPECT_EQ(t.render(),
            "A       LONG HEADER   C\n"
            "xxxxx   y             z\n"
            "1       2\n");
}

TEST(Table, TruncatesByCodePoints) {
  EXPECT_EQ(truncateText("short", 20), "short");
  EXPECT_EQ(truncateText("abcdefghij", 5), "abcd…");
  EXPECT_EQ(displayWidth("abcd…"), 5u);
}

TEST(Views, ReferencesSplitIntoRepositoryAndTag) {
  EXPECT_EQ(splitReference("docker.io/library/debian:12"),
            std::make_pair(std::string("docker.io/library/debian"), std::string("12")));
  EXPECT_EQ(splitReference("localhost:5000/app"),
            std::make_pair(std::string("localhost:5000/app"), std::string("latest")));
  EXPECT_EQ(splitReference("app@sha256:abc"),
            std::make_pair(std::string("app"), std::string("<none>")));
}

pb::ContainerSummary running() {
  pb::ContainerSummary c;
  c.set_id("0123456789abcdef0123");
  c.set_name("web");
  c.set_image("debian:12");
  c.add_command("sh");
  c.add_command("-c");
  c.add_command("while true; do sleep 1; done");
  c.set_created_ns(kNow - 7200 * kS);
  c.set_state(pb::STATE_RUNNING);
  c.set_started_ns(kNow - 300 * kS);
  c.set_restart_count(2);
  return c;
}

TEST(Views, ContainerTableLikeDockerPs) {
  pb::ContainerListReply list;
  *list.add_containers() = running();
  std::string table = containerTable(list, kNow, false).render();
  EXPECT_NE(table.find("CONTAINER ID   IMAGE       COMMAND"), std::string::npos) << table;
  EXPECT_NE(table.find("0123456789ab   debian:12   \"sh -c while true; d…\"   2 hours ago   "
                       "Up 5 minutes   2          web"),
            std::string::npos)
      << table;
  std::string full = containerTable(list, kNow, true).render();
  EXPECT_NE(full.find("0123456789abcdef0123"), std::string::npos);
  EXPECT_NE(full.find("\"sh -c while true; do sleep 1; done\""), std::string::npos);
}

TEST(Views, StatusTextPrefersTheDaemonsThenTheState) {
  pb::ContainerSummary c = running();
  EXPECT_EQ(statusCell(c, kNow), "Up 5 minutes");
  c.set_state(pb::STATE_EXITED);
  c.set_exit_code(137);
  c.set_finished_ns(kNow - 2 * kS);
  EXPECT_EQ(statusCell(c, kNow), "Exited (137) 2 seconds ago");
  c.set_state(pb::STATE_CREATED);
  EXPECT_EQ(statusCell(c, kNow), "Created");
  c.set_state(pb::STATE_RESTARTING);
  EXPECT_EQ(statusCell(c, kNow), "Restarting (137) 2 seconds ago");
  c.set_status("Up 1 second (daemon)");
  EXPECT_EQ(statusCell(c, kNow), "Up 1 second (daemon)");
}

TEST(Views, ImageTableOneRowPerReference) {
  pb::ImageListReply list;
  auto* image = list.add_images();
  image->set_id("sha256:aaaaaaaaaaaabbbb");
  image->add_references("debian:12");
  image->add_references("debian:bookworm");
  image->set_size(74'800'000);
  image->set_created_ns(kNow - 3 * 24 * 3600 * kS);
  list.add_images()->set_id("sha256:cccccccccccc");
  std::string table = imageTable(list, kNow).render();
  EXPECT_EQ(table,
            "REPOSITORY   TAG        IMAGE ID       CREATED      SIZE\n"
            "debian       12         aaaaaaaaaaaa   3 days ago   74.8MB\n"
            "debian       bookworm   aaaaaaaaaaaa   3 days ago   74.8MB\n"
            "<none>       <none>     cccccccccccc   N/A          0B\n");
}

TEST(Views, StatsTable) {
  pb::StatsBatch batch;
  auto* s = batch.add_containers();
  s->set_id("0123456789abcdef");
  s->set_name("web");
  s->set_cpu_percent(12.345);
  s->set_memory_usage(64ull << 20);
  s->set_memory_limit(512ull << 20);
  s->set_pids(3);
  auto* u = batch.add_containers();
  u->set_id("fedcba9876543210");
  u->set_name("free");
  u->set_memory_usage(1536ull << 10);
  std::string table = statsTable(batch).render();
  EXPECT_EQ(table,
            "CONTAINER      NAME   CPU %    MEM USAGE / LIMIT    MEM %    PIDS\n"
            "0123456789ab   web    12.35%   64MiB / 512MiB       12.50%   3\n"
            "fedcba987654   free   0.00%    1.5MiB / unlimited   --       0\n");
}

TEST(Json, ContainerSummaryAndInfo) {
  pb::ContainerInfo info;
  *info.mutable_summary() = running();
  info.mutable_spec()->set_image("debian:12");
  info.mutable_spec()->mutable_restart()->set_kind(pb::RESTART_ALWAYS);
  info.add_effective_env("PATH=/bin");
  info.set_effective_workdir(std::string("/d\xff", 3));  // not UTF-8
  Json j = containerInfoJson(info);
  EXPECT_EQ(j["id"], "0123456789abcdef0123");
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["restart_count"], 2);
  EXPECT_EQ(j["command"][2], "while true; do sleep 1; done");
  EXPECT_EQ(j["created"], "2023-11-14T20:13:20Z");
  EXPECT_EQ(j["spec"]["restart"]["name"], "always");
  EXPECT_TRUE(j["spec"]["entrypoint"].is_null());
  EXPECT_EQ(j["effective_env"][0], "PATH=/bin");
  std::string text = dumpJson(j);  // must not throw on the invalid byte
  EXPECT_NE(text.find("\"effective_workdir\": \"/d\xEF\xBF\xBD\""), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST(Json, StatsAndImages) {
  pb::ContainerStats s;
  s.set_memory_usage(50);
  s.set_memory_limit(200);
  EXPECT_DOUBLE_EQ(containerStatsJson(s)["memory_percent"].get<double>(), 25.0);
  pb::ImageSummary image;
  image.set_id("sha256:x");
  image.add_references("a:1");
  Json j = imageSummaryJson(image);
  EXPECT_EQ(j["references"][0], "a:1");
  EXPECT_EQ(j["created"], "");
  pb::ContainerState states[] = {pb::STATE_CREATED, pb::STATE_EXITED, pb::STATE_DEAD};
  EXPECT_EQ(stateText(states[0]), "created");
  EXPECT_EQ(stateText(states[1]), "exited");
  EXPECT_EQ(stateText(states[2]), "dead");
}

TEST(Progress, RewritesTheLineOfTheSameBlob) {
  PullProgressView view;
  pb::PullProgress p;
  p.set_id("sha256:0123456789abcdef");
  p.set_status("downloading");
  p.set_current(500'000);
  p.set_total(1'000'000);
  EXPECT_EQ(view.update(p), "0123456789ab: downloading 500kB/1MB");
  p.set_current(1'000'000);
  EXPECT_EQ(view.update(p), "\r\033[K0123456789ab: downloading 1MB/1MB");
  pb::PullProgress other;
  other.set_id("debian:12");
  other.set_status("done");
  EXPECT_EQ(view.update(other), "\ndebian:12: done");
  EXPECT_EQ(view.finish(), "\n");
  EXPECT_EQ(view.finish(), "");
}

pb::LogEntry entry(int64_t t, pb::OutputStream s, const std::string& data, bool partial = false) {
  pb::LogEntry e;
  e.set_timestamp_ns(t);
  e.set_stream(s);
  e.set_data(data);
  e.set_partial(partial);
  return e;
}

TEST(LogPrinter, SplitsStreamsAndJoinsPartials) {
  std::ostringstream out;
  std::ostringstream err;
  LogPrinter printer(out, err, false);
  printer.add(entry(1, pb::OUTPUT_STDOUT, "he", true));
  printer.add(entry(2, pb::OUTPUT_STDERR, "oops"));
  printer.add(entry(3, pb::OUTPUT_STDOUT, "llo"));
  printer.add(entry(4, pb::OUTPUT_STDOUT, "with newline\n"));
  printer.add(entry(5, pb::OUTPUT_STDOUT, "unfinished", true));
  EXPECT_EQ(out.str(), "hello\nwith newline\n");
  printer.finish();
  EXPECT_EQ(out.str(), "hello\nwith newline\nunfinished");
  EXPECT_EQ(err.str(), "oops\n");
}

TEST(LogPrinter, TimestampOfTheLinesFirstPiece) {
  std::ostringstream out;
  std::ostringstream err;
  LogPrinter printer(out, err, true);
  printer.add(entry(kNow + kS / 2, pb::OUTPUT_STDOUT, "a", true));
  printer.add(entry(kNow + kS, pb::OUTPUT_STDOUT, "b"));
  EXPECT_EQ(out.str(), "2023-11-14T22:13:20.5Z ab\n");
}

TEST(LogPrinter, EntriesOfManyLinesEachGetTheirPrefix) {
  std::ostringstream out;
  std::ostringstream err;
  LogPrinter printer(out, err, true);
  printer.add(entry(kNow + kS / 2, pb::OUTPUT_STDOUT, "x\ny\nst", true));
  printer.add(entry(kNow + kS, pb::OUTPUT_STDOUT, "art\nz\n"));
  printer.add(entry(kNow + kS, pb::OUTPUT_STDERR, "e1\n\ne3\n"));
  EXPECT_EQ(out.str(),
            "2023-11-14T22:13:20.5Z x\n2023-11-14T22:13:20.5Z y\n"
            "2023-11-14T22:13:20.5Z start\n2023-11-14T22:13:21Z z\n");
  EXPECT_EQ(err.str(), "2023-11-14T22:13:21Z e1\n2023-11-14T22:13:21Z \n2023-11-14T22:13:21Z e3\n");
}

TEST(LogPrinter, BatchedEntriesWithoutTimestampsPrintAsTheyCame) {
  std::ostringstream out;
  std::ostringstream err;
  LogPrinter printer(out, err, false);
  printer.add(entry(1, pb::OUTPUT_STDOUT, "a\nb\n"));
  printer.add(entry(2, pb::OUTPUT_STDOUT, "c\nd", true));
  printer.add(entry(3, pb::OUTPUT_STDOUT, "", false));  // an older berthd's empty line ends "d"
  printer.add(entry(4, pb::OUTPUT_STDOUT, "", false));  // and this one is an empty line
  printer.finish();
  EXPECT_EQ(out.str(), "a\nb\nc\nd\n\n");
  EXPECT_EQ(err.str(), "");
}

TEST(LogPrinter, ANoticeOfMissingLinesGoesToStderr) {
  std::ostringstream out;
  std::ostringstream err;
  LogPrinter printer(out, err, true);
  printer.add(entry(kNow, pb::OUTPUT_UNSPECIFIED, "3 rotated log files were deleted"));
  printer.finish();
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "berth: logs: 3 rotated log files were deleted\n");
}

}  // namespace
}  // namespace berth::agent::cli
