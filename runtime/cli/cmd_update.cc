// `pause`, `resume` and `update`.
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "runtime/cli/globals.h"
#include "runtime/config/parse.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cli {
namespace {

// "64M", "1g", "512k", "1048576", "-1" -> bytes (binary units, like runc's RAMInBytes).
sys::Result<int64_t> parseBytes(const std::string& flag, const std::string& text) {
  if (text == "-1") return int64_t{-1};
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return sys::Error::invalid("--" + flag + ": not a size: " + text);
  std::string unit(end);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  double mult = 1;
  if (unit == "k") mult = 1024.0;
  else if (unit == "m") mult = 1024.0 * 1024;
  else if (unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty()) return sys::Error::invalid("--" + flag + ": unknown unit in " + text);
  return static_cast<int64_t>(v * mult);
}

sys::Result<int64_t> parseInt(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end) return sys::Error::invalid("--" + flag + ": not a number: " + text);
  return static_cast<int64_t>(v);
}

const std::vector<FlagSpec> kUpdateFlags = {
    {"resources", "r", true, "path to a resources.json (\"-\" for stdin)"},
    {"memory", nullptr, true, "memory limit (e.g. 64M; -1 = unlimited)"},
    {"memory-reservation", nullptr, true, "memory soft limit"},
    {"memory-swap", nullptr, true, "memory + swap limit"},
    {"cpu-quota", nullptr, true, "CFS quota in microseconds per period"},
    {"cpu-period", nullptr, true, "CFS period in microseconds"},
    {"cpu-share", nullptr, true, "CPU shares (relative weight)"},
    {"cpu-shares", nullptr, true, "CPU shares (alias of --cpu-share)"},
    {"cpu-rt-period", nullptr, true, "realtime period in microseconds"},
    {"cpu-rt-runtime", nullptr, true, "realtime runtime in microseconds"},
    {"cpuset-cpus", nullptr, true, "CPUs the container may use (e.g. 0-1)"},
    {"cpuset-mems", nullptr, true, "memory nodes the container may use"},
    {"pids-limit", nullptr, true, "maximum number of processes (-1 = unlimited)"},
    {"blkio-weight", nullptr, true, "block IO weight (10-1000)"},
};

sys::Result<config::Resources> resourcesFromFlags(const Args& args) {
  config::Resources r;
  if (args.has("resources")) {
    std::string path = args.value("resources");
    std::string text;
    if (path == "-") {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(0, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
    } else {
      text = BERTH_TRY(sys::readFile(path));
    }
    r = BERTH_TRY_CTX(config::parseResources(text), "--resources " + path);
  }
  auto mem = [&]() -> config::MemoryResources& {
    if (!r.memory) r.memory.emplace();
    return *r.memory;
  };
  auto cpu = [&]() -> config::CpuResources& {
    if (!r.cpu) r.cpu.emplace();
    return *r.cpu;
  };
  if (args.has("memory")) mem().limit = BERTH_TRY(parseBytes("memory", args.value("memory")));
  if (args.has("memory-reservation")) {
    mem().reservation = BERTH_TRY(parseBytes("memory-reservation", args.value("memory-reservation")));
  }
  if (args.has("memory-swap")) mem().swap = BERTH_TRY(parseBytes("memory-swap", args.value("memory-swap")));
  if (args.has("cpu-quota")) cpu().quota = BERTH_TRY(parseInt("cpu-quota", args.value("cpu-quota")));
  if (args.has("cpu-period")) {
    cpu().period = static_cast<uint64_t>(BERTH_TRY(parseInt("cpu-period", args.value("cpu-period"))));
  }
  for (const char* f : {"cpu-share", "cpu-shares"}) {
    if (args.has(f)) cpu().shares = static_cast<uint64_t>(BERTH_TRY(parseInt(f, args.value(f))));
  }
  if (args.has("cpu-rt-period")) {
    cpu().realtimePeriod = static_cast<uint64_t>(BERTH_TRY(parseInt("cpu-rt-period", args.value("cpu-rt-period"))));
  }
  if (args.has("cpu-rt-runtime")) {
    cpu().realtimeRuntime = BERTH_TRY(parseInt("cpu-rt-runtime", args.value("cpu-rt-runtime")));
  }
  if (args.has("cpuset-cpus")) cpu().cpus = args.value("cpuset-cpus");
  if (args.has("cpuset-mems")) cpu().mems = args.value("cpuset-mems");
  if (args.has("pids-limit")) {
    r.pids.emplace();
    r.pids->limit = BERTH_TRY(parseInt("pids-limit", args.value("pids-limit")));
  }
  if (args.has("blkio-weight")) {
    r.blockIO.emplace();
    r.blockIO->weight = static_cast<uint16_t>(BERTH_TRY(parseInt("blkio-weight", args.value("blkio-weight"))));
  }
  return r;
}

}  // namespace

int cmdPause(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[9], {}, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  auto r = container::pauseContainer(g.root, id);
  return r ? 0 : fail(g, r.error());
}

int cmdResume(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[10], {}, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  auto r = container::resumeContainer(g.root, id);
  return r ? 0 : fail(g, r.error());
}

int cmdUpdate(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[11], kUpdateFlags, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  auto resources = resourcesFromFlags(args);
  if (!resources) return fail(g, resources.error());
  auto r = container::updateContainer(g.root, id, *resources);
  return r ? 0 : fail(g, r.error());
}

}  // namespace berth::runtime::cli
