// linux.resources.unified: cgroup v2 files written verbatim, after (and so
// overriding) the structured fields. The key becomes a file name inside the
// container's cgroup, so it must name a file there and nothing else.
#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::unified {
namespace {

sys::Result<void> checkKey(const std::string& key) {
  // Moving or killing tasks through the config would bypass the runtime.
  static constexpr std::string_view kForbidden[] = {"cgroup.procs", "cgroup.threads",
                                                    "cgroup.kill"};
  bool forbidden = false;
  for (auto f : kForbidden) forbidden |= key == f;
  if (key.empty() || key.find('/') != std::string::npos || key[0] == '.' ||
      key.find('.') == std::string::npos || forbidden) {
    return sys::Error::invalid("key \"" + key + "\" is not a cgroup v2 file the config may set");
  }
  return sys::ok();
}

}  // namespace

sys::Result<void> planV1(const config::Resources& r, const Current&, KnobList&) {
  if (r.unified.empty()) return sys::ok();
  return sys::Error::invalid("key \"" + r.unified.begin()->first +
                             "\": unified resources need cgroup v2, this host uses cgroup v1");
}

sys::Result<void> planV2(const config::Resources& r, const Current&, KnobList& out) {
  for (const auto& [key, value] : r.unified) {
    BERTH_TRY(checkKey(key));
    out.push_back(Knob{key, value});
  }
  return sys::ok();
}

}  // namespace berth::runtime::cgroup::unified
