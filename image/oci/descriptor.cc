// Descriptors and platforms: see descriptor.h.
#include "image/oci/descriptor.h"

#include <sys/utsname.h>

namespace berth::image::oci {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The numeric part of an arm variant ("v7" -> 7), 0 when it is not one.
int armVersion(std::string_view variant) {
  if (variant.size() < 2 || variant[0] != 'v') return 0;
  int n = 0;
  for (char c : variant.substr(1)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
    if (n > 1000) return 0;
  }
  return n;
}

}  // namespace

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform normalizePlatform(Platform p) {
  p.os = lower(p.os);
  p.architecture = lower(p.architecture);
  p.variant = lower(p.variant);
  std::string& arch = p.architecture;
  if (arch == "x86_64" || arch == "x86-64") {
    arch = "amd64";
  } else if (arch == "aarch64") {
    arch = "arm64";
  } else if (arch == "i386" || arch == "i686") {
    arch = "386";
  } else if (arch == "armhf" || arch == "armel") {
    p.variant = arch == "armhf" ? "v7" : "v6";
    arch = "arm";
  }
  if (arch == "arm64" && p.variant == "v8") p.variant.clear();  // the only arm64 variant that matters
  if (arch == "amd64" && p.variant == "v1") p.variant.clear();
  if (arch == "arm" && p.variant.empty()) p.variant = "v7";  // Docker's default for GOARCH=arm
  return p;
}

Platform hostPlatform() {
  struct utsname u {};
  ::uname(&u);
  Platform p;
  p.os = "linux";
  std::string_view machine(u.machine);
  if (machine == "armv7l") {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (machine == "armv6l") {
    p.architecture = "arm";
    p.variant = "v6";
  } else {
    p.architecture = std::string(machine);  // x86_64, aarch64, i686 map in normalizePlatform
  }
  return normalizePlatform(std::move(p));
}

sys::Result<Platform> parsePlatform(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return sys::Error::invalid("invalid platform \"" + std::string(text) + "\": " + std::string(why));
  };
  auto parts = split(text, '/');
  if (parts.size() < 2 || parts.size() > 3) return bad("expected os/arch or os/arch/variant");
  for (auto part : parts) {
    if (part.empty()) return bad("empty component");
    for (char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '-' || c == '.';
      if (!ok) return bad("unexpected character '" + std::string(1, c) + "'");
    }
  }
  Platform p;
  p.os = std::string(parts[0]);
  p.architecture = std::string(parts[1]);
  if (parts.size() == 3) p.variant = std::string(parts[2]);
  return normalizePlatform(std::move(p));
}

int platformScore(const Platform& wantIn, const Platform& haveIn) {
  Platform want = normalizePlatform(wantIn);
  Platform have = normalizePlatform(haveIn);
  if (want.os != have.os || want.architecture != have.architecture) return 0;
  if (have.variant == want.variant) return 100;
  if (want.variant.empty()) return have.variant.empty() ? 100 : 50;
  // arm: a CPU of version N runs code built for versions below N.
  if (want.architecture == "arm") {
    int w = armVersion(want.variant), h = armVersion(have.variant);
    if (w > 0 && h > 0 && h < w) return 50 + h;
  }
  // amd64 micro-architecture levels (v2, v3): an image without a variant
  // runs anywhere.
  if (have.variant.empty()) return 40;
  return 0;
}

}  // namespace berth::image::oci
