// Capability name parsing and set preparation; see capabilities.h.
#include "runtime/security/capabilities.h"

#include <sys/capability.h>

#include <cctype>
#include <charconv>
#include <string>

#include "runtime/sys/fs.h"

namespace berth::runtime::security {
namespace {

// Masks are 64 bits wide; the kernel has 41 capabilities today.
constexpr int kMaxMaskBit = 63;

sys::Result<uint64_t> parseSet(const std::vector<std::string>& names, std::string_view setName,
                               int lastCap) {
  uint64_t mask = 0;
  for (const std::string& name : names) {
    auto cap = capabilityFromName(name);
    if (!cap) {
      return sys::Error::invalid("process.capabilities." + std::string(setName) +
                                 ": unknown capability \"" + name + "\"");
    }
    // Known to libcap but not to this kernel: skipped (runc does the same),
    // so one config runs on hosts with older kernels.
    if (*cap > lastCap) continue;
    mask |= uint64_t{1} << *cap;
  }
  return mask;
}

}  // namespace

sys::Result<int> capabilityFromName(std::string_view name) {
  // The spec spells capabilities "CAP_" + upper case; libcap would also take
  // "cap_chown" or a bare number, which would make configs non-portable.
  constexpr std::string_view kPrefix = "CAP_";
  bool wellFormed = name.size() > kPrefix.size() && name.substr(0, kPrefix.size()) == kPrefix;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isupper(u) || std::isdigit(u) || c == '_')) wellFormed = false;
  }
  cap_value_t value = 0;
  if (!wellFormed || cap_from_name(std::string(name).c_str(), &value) != 0 || value < 0 ||
      value > kMaxMaskBit) {
    return sys::Error(EINVAL, "unknown capability \"" + std::string(name) + "\"");
  }
  return static_cast<int>(value);
}

int lastKernelCapability() {
  auto text = sys::readFile("/proc/sys/kernel/cap_last_cap");
  int last = -1;
  if (text) {
    const char* begin = text->data();
    auto [ptr, ec] = std::from_chars(begin, begin + text->size(), last);
    if (ec != std::errc()) last = -1;
  }
  // /proc may not be mounted (early boot, odd sandboxes): trust libcap.
  if (last < 0) last = static_cast<int>(cap_max_bits()) - 1;
  return last > kMaxMaskBit ? kMaxMaskBit : last;
}

sys::Result<CapabilitySets> prepareCapabilities(const config::Capabilities& caps) {
  const int lastCap = lastKernelCapability();
  CapabilitySets sets;
  sets.bounding = BERTH_TRY(parseSet(caps.bounding, "bounding", lastCap));
  sets.effective = BERTH_TRY(parseSet(caps.effective, "effective", lastCap));
  sets.inheritable = BERTH_TRY(parseSet(caps.inheritable, "inheritable", lastCap));
  sets.permitted = BERTH_TRY(parseSet(caps.permitted, "permitted", lastCap));
  sets.ambient = BERTH_TRY(parseSet(caps.ambient, "ambient", lastCap));
  return sets;
}

CapabilitySets defaultCapabilitiesWhenAbsent() {
  return CapabilitySets{};
}

}  // namespace berth::runtime::security
