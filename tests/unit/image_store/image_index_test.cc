// The image index (images.json): CRUD, damaged files, crash safety under
// SIGKILL, and two processes updating it at once.
#include "image/store/image_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "runtime/sys/fs.h"
#include "tests/support/temp_dir.h"

namespace berth::image::store {
namespace {

using ::testing::HasSubstr;
using berth::tests::TempDir;

Digest digestFor(const std::string& seed) { return sha256Of(seed); }

ImageRecord record(const std::string& name, const std::string& seed, int64_t created = 1700000000) {
  return ImageRecord{name, digestFor(seed), "application/vnd.oci.image.manifest.v1+json", created};
}

TEST(ImageIndex, SetGetListRemove) {
  TempDir tmp;
  auto index = ImageIndex::open(tmp.path());
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index->list()->empty()) << "no images.json yet means no images";
  ASSERT_TRUE(index->set(record("docker.io/library/busybox:latest", "a")).ok());
  ASSERT_TRUE(index->set(record("docker.io/library/alpine:3", "b")).ok());
  auto got = index->get("docker.io/library/busybox:latest");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, record("docker.io/library/busybox:latest", "a"));
  EXPECT_FALSE(index->get("docker.io/library/nginx:latest")->has_value());

  auto all = index->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "docker.io/library/alpine:3") << "sorted by name";

  // Replacing a name points it elsewhere.
  ASSERT_TRUE(index->set(record("docker.io/library/busybox:latest", "c")).ok());
  EXPECT_EQ((*index->get("docker.io/library/busybox:latest"))->manifest, digestFor("c"));

  EXPECT_TRUE(*index->remove("docker.io/library/alpine:3"));
  EXPECT_FALSE(*index->remove("docker.io/library/alpine:3"));
  EXPECT_EQ(index->list()->size(), 1u);

  // What was written is what a new reader sees.
  auto reopened = *ImageIndex::open(tmp.path());
  EXPECT_EQ(reopened.list()->size(), 1u);
  auto text = sys::readFile(tmp / "images.json");
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("\"created\": \"2023-11-14T22:13:20Z\""));
}

TEST(ImageIndex, SetFillsInTheCreationTime) {
  TempDir tmp;
  auto index = *ImageIndex::open(tmp.path());
  int64_t before = static_cast<int64_t>(::time(nullptr));
  ASSERT_TRUE(index.set(record("docker.io/library/a:1", "a", 0)).ok());
  int64_t created = (*index.get("docker.io/library/a:1"))->created;
  EXPECT_GE(created, before);
  EXPECT_LE(created, before + 5);
}

TEST(ImageIndex, DamagedFileIsReportedNotReplaced) {
  TempDir tmp;
  ASSERT_TRUE(sys::writeFileAtomic(tmp / "images.json", "{\"schemaVersion\":1,\"images\":{\"x\":{\"digest\":1}}}").ok());
  auto index = *ImageIndex::open(tmp.path());
  auto list = index.list();
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(list.error().what(), HasSubstr("images.json"));
  EXPECT_THAT(list.error().what(), HasSubstr("images[\"x\"].digest: expected a string"));
  EXPECT_FALSE(index.set(record("docker.io/library/a:1", "a")).ok()) << "an update must not drop the damaged file";
  EXPECT_THAT(*sys::readFile(tmp / "images.json"), HasSubstr("\"digest\":1"));

  ASSERT_TRUE(sys::writeFileAtomic(tmp / "images.json", "{not json").ok());
  EXPECT_FALSE(index.list().ok());
}

TEST(ImageIndex, EditErrorWritesNothing) {
  TempDir tmp;
  auto index = *ImageIndex::open(tmp.path());
  ASSERT_TRUE(index.set(record("docker.io/library/a:1", "a")).ok());
  auto r = index.update([](ImageMap& m) -> sys::Result<void> {
    m.clear();
    return sys::Error::invalid("changed my mind");
  });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(index.list()->size(), 1u);
}

TEST(ImageIndex, TimeRoundTrip) {
  EXPECT_EQ(formatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*parseTime("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(*parseTime("2023-11-14T22:13:20.123456789Z"), 1700000000);
  EXPECT_EQ(*parseTime("2023-11-15T00:13:20+02:00"), 1700000000);
  EXPECT_FALSE(parseTime("yesterday").ok());
  EXPECT_FALSE(parseTime("2023-11-14T22:13:20").ok());
}

// Two processes each add 100 names, one update at a time: none is lost.
TEST(ImageIndex, ConcurrentUpdatesLoseNothing) {
  TempDir tmp;
  pid_t kids[2];
  for (int k = 0; k < 2; ++k) {
    kids[k] = ::fork();
    ASSERT_GE(kids[k], 0);
    if (kids[k] == 0) {
      auto index = ImageIndex::open(tmp.path());
      if (!index) ::_exit(2);
      for (int i = 0; i < 100; ++i) {
        std::string name = "docker.io/library/p" + std::to_string(k) + ":" + std::to_string(i);
        if (!index->set(record(name, name))) ::_exit(3);
      }
      ::_exit(0);
    }
  }
  for (pid_t kid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(kid, &status, 0), kid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  auto all = ImageIndex::open(tmp.path())->list();
  ASSERT_TRUE(all.ok()) << all.error().str();
  EXPECT_EQ(all->size(), 200u);
}

// A writer killed at arbitrary moments leaves either the old or the new
// index, never a torn file: every state a reader finds parses and is one
// the writer produced (a prefix of its updates).
TEST(ImageIndex, KilledWriterLeavesOldOrNewFile) {
  TempDir tmp;
  auto index = *ImageIndex::open(tmp.path());
  // A big index makes each rewrite take long enough to be interrupted.
  ASSERT_TRUE(index.update([](ImageMap& m) -> sys::Result<void> {
    for (int i = 0; i < 2000; ++i) {
      std::string name = "docker.io/library/base" + std::to_string(i) + ":latest";
      m.insert_or_assign(name, record(name, name));
    }
    return sys::ok();
  }).ok());
  size_t lastCount = 2000;
  for (int round = 0; round < 10; ++round) {
    pid_t kid = ::fork();
    ASSERT_GE(kid, 0);
    if (kid == 0) {
      auto idx = ImageIndex::open(tmp.path());
      for (int i = 0;; ++i) {
        std::string name = "docker.io/library/r" + std::to_string(round) + ":" + std::to_string(i);
        if (!idx->set(record(name, name))) ::_exit(3);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + 7 * round));
    ::kill(kid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(kid, &status, 0), kid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed on its own: status " << status;
    auto all = index.list();
    ASSERT_TRUE(all.ok()) << "round " << round << ": " << all.error().str();
    EXPECT_GE(all->size(), lastCount) << "a committed update was lost";
    // Entries of this round form a prefix 0..n-1: no update is half there.
    size_t mine = 0;
    for (const auto& r : *all) mine += r.name.rfind("docker.io/library/r" + std::to_string(round) + ":", 0) == 0;
    for (size_t i = 0; i < mine; ++i) {
      std::string name = "docker.io/library/r" + std::to_string(round) + ":" + std::to_string(i);
      EXPECT_TRUE(index.get(name)->has_value()) << name;
    }
    lastCount = all->size();
  }
  // Leftover temp files of the killed writers do not disturb later updates.
  EXPECT_TRUE(index.set(record("docker.io/library/after:1", "after")).ok());
}

}  // namespace
}  // namespace berth::image::store
