// Leak checks shared by the disk tests (storage_disk, storage_rootfs): the
// mounts under a test's base directory and the loop devices whose backing
// file lies under it, with a cleanup that removes both even when a test fails.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sys/fs.h"

namespace berth::tests::disk {

// Mount points under `base` in this mount namespace (field 5 of mountinfo).
inline std::vector<std::string> mountsUnder(const std::string& base) {
  std::vector<std::string> found;
  auto text = sys::readFile("/proc/self/mountinfo");
  if (!text) return found;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    size_t field = 0, start = 0;
    for (int i = 0; i < 4 && start != std::string::npos; ++i) {
      start = line.find(' ', start);
      if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos) continue;
    field = line.find(' ', start);
    std::string mountPoint = sys::unescapeMountinfoField(line.substr(start, field - start));
    if (mountPoint.rfind(base + "/", 0) == 0) found.push_back(mountPoint);
  }
  return found;
}

// Loop devices (as "loopN") backed by a file under `base`.
inline std::vector<std::string> loopsUnder(const std::string& base) {
  std::vector<std::string> found;
  DIR* dir = ::opendir("/sys/block");
  if (!dir) return found;
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name.rfind("loop", 0) != 0) continue;
    auto backing = sys::readFile("/sys/block/" + name + "/loop/backing_file");
    if (backing && backing->rfind(base + "/", 0) == 0) found.push_back(name);
  }
  ::closedir(dir);
  return found;
}

// Autoclear releases a loop device from a kernel work item after the last
// close, so "no loop left" is checked with a short grace period.
inline std::vector<std::string> loopsUnderAfterRelease(const std::string& base) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  auto left = loopsUnder(base);
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    left = loopsUnder(base);
  }
  return left;
}

// Unmounts whatever a failed test left under `base`, reports it, removes `base`.
inline void cleanUpAndCheck(const std::string& base) {
  auto left = mountsUnder(base);
  for (auto it = left.rbegin(); it != left.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  EXPECT_TRUE(left.empty()) << left.size() << " mounts left under " << base << ", first "
                            << left.front();
  auto loops = loopsUnderAfterRelease(base);
  EXPECT_TRUE(loops.empty()) << loops.size() << " loop devices left for " << base << ", first "
                             << loops.front();
  EXPECT_TRUE(sys::removeAll(base).ok());
}

// Runs the whole binary in a private mount namespace (set up before any
// test), so even a crash cannot leak a mount to the host; with the mounts
// gone, autoclear frees their loop devices too.
class PrivateMountNamespace : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) return;
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "unshare mount namespace";
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  }
};

}  // namespace berth::tests::disk
