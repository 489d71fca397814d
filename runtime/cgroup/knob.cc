// Performing planned cgroup writes: see knob.h.
#include "runtime/cgroup/knob.h"

#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

sys::Result<void> writeOne(const Knob& knob, const std::string& dir) {
  auto path = sys::joinPath(dir, knob.file);
  auto written = sys::writeFile(path, knob.value);
  if (written || written.error().code() != ENOENT) return written;
  switch (knob.ifMissing) {
    case Knob::IfMissing::kFail:
      return sys::Error(ENOENT, path + " does not exist: this kernel or cgroup cannot set " +
                                    knob.file + " (wanted \"" + knob.value + "\")");
    case Knob::IfMissing::kSkip:
      return sys::ok();
    case Knob::IfMissing::kFallback:
      return sys::writeFile(sys::joinPath(dir, knob.fallbackFile), knob.fallbackValue);
  }
  return written;
}

}  // namespace

std::string_view knobController(std::string_view file) {
  return file.substr(0, file.find('.'));
}

sys::Result<void> writeKnobs(const KnobList& knobs, const DirFor& dirFor) {
  std::vector<std::pair<const Knob*, std::string>> retry;
  for (const auto& knob : knobs) {
    auto dir = dirFor(knobController(knob.file));
    if (!dir) {
      if (knob.ifMissing == Knob::IfMissing::kSkip) continue;
      return std::move(dir).error().context("set " + knob.file);
    }
    auto written = writeOne(knob, *dir);
    if (!written && knob.retryOnEinval && written.error().code() == EINVAL) {
      retry.emplace_back(&knob, std::move(*dir));
      continue;
    }
    BERTH_TRY(std::move(written));
  }
  for (const auto& [knob, dir] : retry) BERTH_TRY(writeOne(*knob, dir));
  return sys::ok();
}

}  // namespace berth::runtime::cgroup
