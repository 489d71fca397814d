// Content store: digests, verified writes, mismatches, and two processes
// writing the same blob at once.
#include "image/store/content_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <string>

#include "runtime/sys/fs.h"
#include "tests/support/temp_dir.h"

namespace berth::image::store {
namespace {

using ::testing::HasSubstr;
using berth::tests::TempDir;

// sha256("") and sha256("abc"), from FIPS 180-2 / sha256sum.
constexpr const char* kEmpty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

Digest digestOf(const char* text) { return *Digest::parse(text); }

size_t countEntries(const std::string& dir) {
  size_t n = 0;
  if (DIR* dp = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(dp)) {
      std::string_view s(e->d_name);
      if (s != "." && s != "..") ++n;
    }
    ::closedir(dp);
  }
  return n;
}

TEST(Digest, ParsesOnlySha256WithLowercaseHex) {
  EXPECT_TRUE(Digest::parse(kAbc).ok());
  EXPECT_EQ(Digest::parse(kAbc)->hex(), std::string_view(kAbc).substr(7));
  for (const std::string& bad : std::vector<std::string>{std::string(""), std::string("sha256:"), std::string(kAbc).substr(0, 70),
                          std::string(kAbc) + "0", std::string("sha512:") + std::string(kAbc).substr(7),
                          std::string("SHA256:") + std::string(kAbc).substr(7),
                          std::string("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
                          std::string("sha256:../../../../etc/passwd0000000000000000000000000000000000000000000"),
                          std::string(kAbc).substr(7)}) {
    auto d = Digest::parse(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_THAT(d.error().what(), HasSubstr("invalid digest"));
    }
  }
}

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(sha256Of("").str(), kEmpty);
  EXPECT_EQ(sha256Of("abc").str(), kAbc);
  Sha256 h;
  h.update("a", 1);
  h.update("bc", 2);
  EXPECT_EQ(h.finish().str(), kAbc);
  EXPECT_EQ(h.finish().str(), kEmpty) << "finish() starts a new message";
}

TEST(ContentStore, PutThenReadBack) {
  TempDir tmp;
  auto store = ContentStore::open(tmp.path());
  ASSERT_TRUE(store.ok()) << store.error().str();
  Digest d = digestOf(kAbc);
  EXPECT_FALSE(store->has(d));
  ASSERT_TRUE(store->put(d, "abc").ok());
  EXPECT_TRUE(store->has(d));
  EXPECT_EQ(store->blobPath(d), tmp.path() + "/blobs/sha256/" + std::string(d.hex()));
  EXPECT_EQ(*store->readBlob(d), "abc");
  EXPECT_EQ(*store->size(d), 3u);
  EXPECT_TRUE(store->verify(d).ok());
  auto listed = store->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<Digest>{d});
  // Putting the same content again is a no-op, not an error.
  EXPECT_TRUE(store->put(d, "abc").ok());
  EXPECT_EQ(countEntries(tmp / "blobs/tmp"), 0u);
}

TEST(ContentStore, DigestMismatchNamesBothDigestsAndPublishesNothing) {
  TempDir tmp;
  auto store = *ContentStore::open(tmp.path());
  Digest claimed = digestOf(kAbc);
  auto w = store.writer(claimed, 3);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("abd", 3).ok());
  auto r = (*w)->commit();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().what(), HasSubstr(kAbc));
  EXPECT_THAT(r.error().what(), HasSubstr(sha256Of("abd").str()));
  EXPECT_THAT(r.error().what(), HasSubstr("3 bytes"));
  EXPECT_FALSE(store.has(claimed));
  EXPECT_FALSE(store.has(sha256Of("abd")));
  EXPECT_EQ(countEntries(tmp / "blobs/tmp"), 0u) << "the temp file of a failed write is removed";

  auto put = store.put(claimed, "xyz");
  ASSERT_FALSE(put.ok());
  EXPECT_THAT(put.error().what(), HasSubstr("digest mismatch"));
}

TEST(ContentStore, SizeMismatchIsRefused) {
  TempDir tmp;
  auto store = *ContentStore::open(tmp.path());
  Digest d = digestOf(kAbc);
  {
    auto w = store.writer(d, 4).value();  // announced 4, delivers 3
    ASSERT_TRUE(w->write("abc", 3).ok());
    auto r = w->commit();
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.error().what(), HasSubstr("size mismatch: expected 4 bytes, got 3 bytes"));
  }
  {
    // More than announced fails at once: a hostile source cannot fill the disk.
    auto w = store.writer(d, 2).value();
    auto r = w->write("abc", 3);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.error().what(), HasSubstr("size mismatch: expected 2 bytes"));
    EXPECT_FALSE(w->commit().ok());
  }
  EXPECT_FALSE(store.has(d));
  EXPECT_EQ(countEntries(tmp / "blobs/tmp"), 0u);
}

TEST(ContentStore, AbandonedWriterLeavesNothing) {
  TempDir tmp;
  auto store = *ContentStore::open(tmp.path());
  {
    auto w = store.writer(digestOf(kAbc), -1).value();
    ASSERT_TRUE(w->write("ab", 2).ok());
    EXPECT_EQ(countEntries(tmp / "blobs/tmp"), 1u);
  }
  EXPECT_EQ(countEntries(tmp / "blobs/tmp"), 0u);
  EXPECT_FALSE(store.has(digestOf(kAbc)));
}

TEST(ContentStore, IngesterPublishesUnderTheComputedDigest) {
  TempDir tmp;
  auto store = *ContentStore::open(tmp.path());
  auto w = store.ingester().value();
  ASSERT_TRUE(w->write("a", 1).ok());
  ASSERT_TRUE(w->write("bc", 2).ok());
  ASSERT_TRUE(w->commit().ok());
  ASSERT_TRUE(w->committed().has_value());
  EXPECT_EQ(w->committed()->str(), kAbc);
  EXPECT_TRUE(store.has(digestOf(kAbc)));
  auto any = store.putAny("");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->str(), kEmpty);
}

TEST(ContentStore, VerifyDetectsCorruptionAndRemoveDeletes) {
  TempDir tmp;
  auto store = *ContentStore::open(tmp.path());
  Digest d = digestOf(kAbc);
  ASSERT_TRUE(store.put(d, "abc").ok());
  std::string path = store.blobPath(d);
  ::chmod(path.c_str(), 0644);
  ASSERT_TRUE(sys::writeFile(path, "abX").ok());
  auto v = store.verify(d);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().what(), HasSubstr("corrupt"));
  EXPECT_THAT(v.error().what(), HasSubstr(sha256Of("abX").str()));
  ASSERT_TRUE(store.remove(d).ok());
  EXPECT_FALSE(store.has(d));
  EXPECT_TRUE(store.remove(d).ok()) << "removing a missing blob is not an error";
  auto missing = store.readBlob(d);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ENOENT);
}

TEST(ContentStore, ReadBlobHonoursTheSizeLimit) {
  TempDir tmp;
  auto store = *ContentStore::open(tmp.path());
  Digest d = *store.putAny(std::string(100, 'x'));
  auto r = store.readBlob(d, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().what(), HasSubstr("100 bytes"));
}

TEST(ContentStore, RemoveStaleTempsKeepsFreshOnes) {
  TempDir tmp;
  auto store = *ContentStore::open(tmp.path());
  ASSERT_TRUE(sys::writeFileAtomic(tmp / "blobs/tmp/old", "0123456789").ok());
  ASSERT_TRUE(sys::writeFileAtomic(tmp / "blobs/tmp/fresh", "01234").ok());
  struct utimbuf old {1000, 1000};
  ASSERT_EQ(::utime((tmp / "blobs/tmp/old").c_str(), &old), 0);
  auto freed = store.removeStaleTemps(3600);
  ASSERT_TRUE(freed.ok());
  EXPECT_EQ(*freed, 10u);
  EXPECT_FALSE(sys::pathExists(tmp / "blobs/tmp/old"));
  EXPECT_TRUE(sys::pathExists(tmp / "blobs/tmp/fresh"));
}

// Two processes write the same 1 MiB blob 20 times each, concurrently:
// every commit succeeds and the published blob is always intact.
TEST(ContentStore, TwoProcessesWritingTheSameBlob) {
  TempDir tmp;
  std::string content;
  for (int i = 0; i < (1 << 20); ++i) content += static_cast<char>('a' + i % 26);
  Digest d = sha256Of(content);
  auto writeMany = [&]() -> int {
    auto store = ContentStore::open(tmp.path());
    if (!store) return 2;
    for (int round = 0; round < 20; ++round) {
      auto w = store->writer(d, static_cast<int64_t>(content.size()));
      if (!w) return 3;
      for (size_t off = 0; off < content.size(); off += 4096) {
        if (!(*w)->write(content.data() + off, 4096)) return 4;
      }
      if (!(*w)->commit()) return 5;
      auto back = store->readBlob(d);
      if (!back || *back != content) return 6;
    }
    return 0;
  };
  pid_t kids[2];
  for (pid_t& kid : kids) {
    kid = ::fork();
    ASSERT_GE(kid, 0);
    if (kid == 0) ::_exit(writeMany());
  }
  for (pid_t kid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(kid, &status, 0), kid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  auto store = *ContentStore::open(tmp.path());
  EXPECT_TRUE(store.verify(d).ok());
  EXPECT_EQ(countEntries(tmp / "blobs/tmp"), 0u);
}

}  // namespace
}  // namespace berth::image::store
