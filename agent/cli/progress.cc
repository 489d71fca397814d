// Pull progress lines.
#include "agent/cli/progress.h"

#include "agent/cli/units.h"

namespace berth::agent::cli {

std::string progressText(const pb::PullProgress& p) {
  std::string id = p.id().rfind("sha256:", 0) == 0 ? shortId(p.id()) : p.id();
  std::string line = id + ": " + p.status();
  if (p.total() > 0) {
    line += " " + formatSizeDecimal(p.current()) + "/" + formatSizeDecimal(p.total());
  } else if (p.current() > 0) {
    line += " " + formatSizeDecimal(p.current());
  }
  return line;
}

std::string PullProgressView::update(const pb::PullProgress& progress) {
  std::string text;
  if (!currentId_.empty() && progress.id() == currentId_) {
    text = "\r\033[K";
  } else if (!currentId_.empty()) {
    text = "\n";
  }
  currentId_ = progress.id();
  return text + progressText(progress);
}

std::string PullProgressView::finish() {
  if (currentId_.empty()) return "";
  currentId_.clear();
  return "\n";
}

}  // namespace berth::agent::cli
