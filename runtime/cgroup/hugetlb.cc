// The hugetlb controller: a limit per huge page size. The OCI page size
// ("2MB", "1GB") is part of the file name, so it is validated before it is
// used to build one.
#include <cctype>

#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::hugetlb {
namespace {

using Miss = Knob::IfMissing;

sys::Result<void> checkPageSize(const std::string& size) {
  size_t digits = 0;
  while (digits < size.size() && std::isdigit(static_cast<unsigned char>(size[digits]))) ++digits;
  auto unit = std::string_view(size).substr(digits);
  if (digits == 0 || (unit != "KB" && unit != "MB" && unit != "GB")) {
    return sys::Error::invalid("pageSize \"" + size + "\": expected a size like 2MB or 1GB");
  }
  return sys::ok();
}

}  // namespace

sys::Result<void> planV1(const config::Resources& r, const Current&, KnobList& out) {
  for (const auto& h : r.hugepageLimits) {
    BERTH_TRY(checkPageSize(h.pageSize));
    auto limit = std::to_string(h.limit);
    out.push_back(Knob{"hugetlb." + h.pageSize + ".limit_in_bytes", limit});
    // Reservations (5.7+) are limited alongside, so a reserved mapping cannot
    // exceed the limit either; older kernels lack the file.
    out.push_back(Knob{"hugetlb." + h.pageSize + ".rsvd.limit_in_bytes", limit, Miss::kSkip});
  }
  return sys::ok();
}

sys::Result<void> planV2(const config::Resources& r, const Current&, KnobList& out) {
  for (const auto& h : r.hugepageLimits) {
    BERTH_TRY(checkPageSize(h.pageSize));
    auto limit = std::to_string(h.limit);
    out.push_back(Knob{"hugetlb." + h.pageSize + ".max", limit});
    out.push_back(Knob{"hugetlb." + h.pageSize + ".rsvd.max", limit, Miss::kSkip});
  }
  return sys::ok();
}

}  // namespace berth::runtime::cgroup::hugetlb
