// berthd's command line; see options.h.
#include "agent/daemon/options.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>

namespace berth::agent::daemon {
namespace {

bool isAbsolute(const std::string& path) { return !path.empty() && path[0] == '/'; }

sys::Result<void> setPath(std::string& field, const std::string& flag, const std::string& value) {
  if (!isAbsolute(value)) return sys::Error::invalid(flag + " wants an absolute path, not '" + value + "'");
  field = value;
  return {};
}

sys::Result<void> setName(std::string& field, const std::string& flag, const std::string& value) {
  if (value.empty() || value.find("..") != std::string::npos || value.front() == '/') {
    return sys::Error::invalid(flag + ": '" + value + "' is not a valid name");
  }
  field = value;
  return {};
}

sys::Result<void> applyFlag(DaemonOptions& o, const std::string& flag, const std::string& value) {
  if (flag == "--root") return setPath(o.dataRoot, flag, value);
  if (flag == "--run") return setPath(o.runRoot, flag, value);
  if (flag == "--socket") return setPath(o.socketPath, flag, value);
  if (flag == "--registry-ca") return setPath(o.registryCa, flag, value);
  if (flag == "--auth-file") return setPath(o.authFile, flag, value);
  if (flag == "--cgroup-parent") return setName(o.cgroupParent, flag, value);
  if (flag == "--network-pool") {
    // Checked by the network service at start (a CIDR such as 10.89.0.0/16).
    if (value.empty() || value.find('/') == std::string::npos) {
      return sys::Error::invalid("--network-pool wants a CIDR such as 10.89.0.0/16, not '" + value + "'");
    }
    o.networkPool = value;
    return {};
  }
  if (flag == "--network-size") {
    // A /16..../29 per project network: /30 and smaller hold one container.
    int prefix = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), prefix);
    if (ec != std::errc() || end != value.data() + value.size() || prefix < 16 || prefix > 29) {
      return sys::Error::invalid("--network-size wants a prefix length from 16 to 29, not '" +
                                 value + "'");
    }
    o.networkPrefix = prefix;
    return {};
  }
  if (flag == "--socket-group") {
    o.socketGroup = value;  // empty: owner only
    return {};
  }
  if (flag == "--insecure-registry") {
    if (value.empty() || value.find('/') != std::string::npos) {
      return sys::Error::invalid("--insecure-registry wants HOST[:PORT], not '" + value + "'");
    }
    o.insecureRegistries.push_back(value);
    return {};
  }
  if (flag == "--log-level") {
    auto level = parseLogLevel(value);
    if (!level) return sys::Error::invalid("--log-level: '" + value + "' is not one of debug, info, warn, error");
    o.logLevel = *level;
    return {};
  }
  if (flag == "--restart-backoff-cap") {
    auto cap = parseDuration(value);
    if (!cap) return std::move(cap).error().context("--restart-backoff-cap");
    o.restartBackoffCap = *cap;
    return {};
  }
  if (flag == "--log-max-size") {
    auto size = parseByteSize(value);
    if (!size) return std::move(size).error().context("--log-max-size");
    if (*size < 4096) return sys::Error::invalid("--log-max-size: at least 4k, not " + value);
    o.logMaxSize = *size;
    return {};
  }
  if (flag == "--log-max-files") {
    unsigned files = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), files);
    if (ec != std::errc() || end != value.data() + value.size() || files < 1 || files > 100) {
      return sys::Error::invalid("--log-max-files wants a number from 1 to 100, not '" + value + "'");
    }
    o.logMaxFiles = files;
    return {};
  }
  return sys::Error::invalid("unknown option " + flag + " (berthd --help lists them)");
}

}  // namespace

sys::Result<std::chrono::milliseconds> parseDuration(const std::string& text) {
  static const std::map<std::string, long long> kUnits = {
      {"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000}, {"h", 3600000}};
  long long number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  auto unit = kUnits.find(std::string(end, text.data() + text.size()));
  if (ec != std::errc() || end == text.data() || number < 0 || unit == kUnits.end()) {
    return sys::Error::invalid("'" + text + "' is not a duration (like 250ms, 30s, 2m)");
  }
  return std::chrono::milliseconds(number * unit->second);
}

sys::Result<uint64_t> parseByteSize(const std::string& text) {
  static const std::map<std::string, uint64_t> kUnits = {
      {"", 1}, {"b", 1}, {"k", 1ULL << 10}, {"m", 1ULL << 20}, {"g", 1ULL << 30}};
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() == 2 && unit[1] == 'b') unit.pop_back();  // "10MB" = "10m"
  auto factor = kUnits.find(unit);
  if (ec != std::errc() || end == text.data() || factor == kUnits.end() ||
      number > UINT64_MAX / factor->second) {
    return sys::Error::invalid("'" + text + "' is not a size (like 10m, 512k, 1g)");
  }
  return number * factor->second;
}

sys::Result<DaemonOptions> parseDaemonArgs(const std::vector<std::string>& args) {
  DaemonOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    if (arg == "--version") {
      o.version = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return sys::Error::invalid("unexpected argument '" + arg + "'");
    std::string flag = arg, value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return sys::Error::invalid(arg + " needs a value");
    }
    BERTH_TRY(applyFlag(o, flag, value));
  }
  if (o.socketPath.empty()) o.socketPath = o.runRoot + "/berthd.sock";
  return o;
}

const char* daemonUsage() {
  return "Usage: berthd [OPTIONS]\n"
         "The berth node agent: runs containers from images and serves the berth CLI.\n\n"
         "  --root DIR                 data root (images, containers, logs) [/var/lib/berth]\n"
         "  --run DIR                  runtime state [/run/berth]\n"
         "  --socket PATH              API socket [<run>/berthd.sock]\n"
         "  --socket-group NAME        group allowed on the socket [berth]\n"
         "  --log-level LEVEL          debug, info, warn, error [info]\n"
         "  --cgroup-parent NAME       cgroup under which containers run [berth]\n"
         "  --network-pool CIDR        addresses of project networks [10.89.0.0/16]\n"
         "  --network-size N           prefix length of each project's subnet [23]\n"
         "  --insecure-registry HOST   registry reached over plain HTTP (repeatable)\n"
         "  --registry-ca FILE         CA bundle for HTTPS registries\n"
         "  --auth-file FILE           registry credentials (docker config.json format)\n"
         "  --restart-backoff-cap D    longest restart delay [30s]\n"
         "  --log-max-size SIZE        rotate a container's log at this size [10m]\n"
         "  --log-max-files N          rotated log files kept per container [5]\n"
         "  --version, --help\n";
}

}  // namespace berth::agent::daemon
