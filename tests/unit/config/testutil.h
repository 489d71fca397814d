// Helpers shared by the config unit tests: fixture loading.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "runtime/sys/fs.h"

namespace berth::runtime::config::testing {

inline std::string fixture(const std::string& name) {
  std::string path = std::string(BERTH_SOURCE_DIR) + "/tests/unit/config/testdata/" + name;
  auto text = sys::readFile(path);
  EXPECT_TRUE(text.ok()) << path << ": " << text.error().str();
  return text.ok() ? *text : std::string();
}

}  // namespace berth::runtime::config::testing
