// berth-shim argument parsing; see options.h.
#include "agent/shim/options.h"

#include <charconv>
#include <string_view>

namespace berth::agent::shim {
namespace {

template <class T>
sys::Result<T> parseNumber(std::string_view name, std::string_view text, T min, T max) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return sys::Error::invalid(std::string(name) + ": expected a number in [" + std::to_string(min) + ", " +
                               std::to_string(max) + "], got \"" + std::string(text) + "\"");
  }
  return value;
}

// Applies one option that takes a value.
sys::Result<void> applyValue(ShimOptions& o, std::string_view name, const std::string& value) {
  if (name == "--id") {
    o.id = value;
  } else if (name == "--bundle") {
    o.bundle = value;
  } else if (name == "--state-root") {
    o.stateRoot = value;
  } else if (name == "--dir") {
    o.dir = value;
  } else if (name == "--seccomp-cache") {
    o.seccompCacheDir = value;
  } else if (name == "--report-fd") {
    o.reportFd = BERTH_TRY(parseNumber<int>(name, value, 0, 1 << 20));
  } else if (name == "--log-max-size") {
    o.logMaxSize = BERTH_TRY(parseNumber<uint64_t>(name, value, 4096, uint64_t{1} << 40));
  } else if (name == "--log-max-files") {
    o.logMaxFiles = BERTH_TRY(parseNumber<unsigned>(name, value, 1, 1000));
  } else {
    return sys::Error::invalid("unknown option " + std::string(name));
  }
  if (value.empty()) return sys::Error::invalid(std::string(name) + ": empty value");
  return sys::ok();
}

}  // namespace

sys::Result<ShimOptions> parseShimArgs(const std::vector<std::string>& args) {
  ShimOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--tty") {
      o.tty = true;
      continue;
    }
    if (arg == "--stdin") {
      o.openStdin = true;
      continue;
    }
    if (!arg.starts_with("--")) return sys::Error::invalid("unexpected argument \"" + args[i] + "\"");
    std::string_view name = arg;
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    } else {
      if (i + 1 >= args.size()) return sys::Error::invalid(std::string(arg) + ": missing value");
      value = args[++i];
    }
    BERTH_TRY(applyValue(o, name, value));
  }
  const std::pair<const char*, const std::string*> required[] = {
      {"--id", &o.id}, {"--bundle", &o.bundle}, {"--state-root", &o.stateRoot}, {"--dir", &o.dir}};
  for (const auto& [name, value] : required) {
    if (value->empty()) return sys::Error::invalid(std::string(name) + " is required");
  }
  return o;
}

std::vector<std::string> toArgv(const ShimOptions& o) {
  std::vector<std::string> a = {"--id", o.id, "--bundle", o.bundle, "--state-root", o.stateRoot, "--dir", o.dir};
  if (o.tty) a.push_back("--tty");
  if (o.openStdin) a.push_back("--stdin");
  if (!o.seccompCacheDir.empty()) a.insert(a.end(), {"--seccomp-cache", o.seccompCacheDir});
  if (o.reportFd >= 0) a.insert(a.end(), {"--report-fd", std::to_string(o.reportFd)});
  if (o.logMaxSize != kDefaultLogMaxSize) a.insert(a.end(), {"--log-max-size", std::to_string(o.logMaxSize)});
  if (o.logMaxFiles != kDefaultLogMaxFiles) {
    a.insert(a.end(), {"--log-max-files", std::to_string(o.logMaxFiles)});
  }
  return a;
}

}  // namespace berth::agent::shim
