// The progress lines of `berth image pull` on a terminal: one line per blob,
// rewritten in place while its byte count grows ("0123456789ab: downloading
// 12.3MB/45.6MB"). Pure: returns the text to print.
#pragma once

#include <string>

#include "agent/api/status.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

// "0123456789ab: downloading 12.3MB/45.6MB" (no byte counts when total is 0
// and nothing was counted).
std::string progressText(const pb::PullProgress& progress);

class PullProgressView {
 public:
  // Text to print for this update: "\r\033[K" + line when it continues the
  // blob on the current line, else a new line.
  std::string update(const pb::PullProgress& progress);
  // Ends the current line.
  std::string finish();

 private:
  std::string currentId_;
};

}  // namespace berth::agent::cli
