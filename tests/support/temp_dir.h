// A scratch directory for one test, removed (with everything in it) when the
// test ends, pass or fail. Named after the pid so parallel runs never meet.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "runtime/sys/fs.h"

namespace berth::tests {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/berth-test-" + std::to_string(::getpid()) + "-XXXXXX";
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    if (!path_.empty()) (void)sys::removeAll(path_).ok();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace berth::tests
