// Fixtures shared by the integration harnesses that run real containers
// from a busybox bundle (shim, streams).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>

#include <cctype>
#include <cstdlib>
#include <string>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::tests {

// <build>/<name>: a busybox bundle (hack/mkbundle) built once per build tree
// under a lock, so parallel test processes do not race; tests mount its
// rootfs read-only.
inline std::string sharedBusyboxBundle(const std::string& name) {
  std::string dir = std::string(BERTH_BUILD_DIR) + "/" + name;
  EXPECT_TRUE(sys::mkdirAll(dir));
  sys::UniqueFd lock(::open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ::flock(lock.get(), LOCK_EX);
  if (!sys::pathExists(dir + "/rootfs/bin/busybox") || !sys::pathExists(dir + "/config.json")) {
    std::string cmd = std::string(BERTH_SOURCE_DIR) + "/hack/mkbundle " + dir + " >/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  return dir;
}

// The running test's name with every non-alphanumeric character made '-',
// cut to `max` characters: usable in container ids and paths.
inline std::string testNameSlug(size_t max = 64) {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
  }
  return name.substr(0, max);
}

}  // namespace berth::tests
