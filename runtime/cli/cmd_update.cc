// `pause`, `resume` and `update`.
#include <unistd.h>

#include <cstdint>

#include "runtime/cli/globals.h"
#include "runtime/cli/units.h"
#include "runtime/config/parse.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cli {
namespace {

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
  // Fields the spec keeps unsigned take no negative values: a cast would
  // turn "-5" into an enormous limit.
  auto number = [&](const char* flag, int64_t min = INT64_MIN, int64_t max = INT64_MAX) {
    return parseInteger(flag, args.value(flag), min, max);
  };
  if (args.has("cpu-quota")) cpu().quota = BERTH_TRY(number("cpu-quota"));
  if (args.has("cpu-period")) cpu().period = static_cast<uint64_t>(BERTH_TRY(number("cpu-period", 0)));
  for (const char* f : {"cpu-share", "cpu-shares"}) {
    if (args.has(f)) cpu().shares = static_cast<uint64_t>(BERTH_TRY(number(f, 0)));
  }
  if (args.has("cpu-rt-period")) {
    cpu().realtimePeriod = static_cast<uint64_t>(BERTH_TRY(number("cpu-rt-period", 0)));
  }
  if (args.has("cpu-rt-runtime")) cpu().realtimeRuntime = BERTH_TRY(number("cpu-rt-runtime"));
  if (args.has("cpuset-cpus")) cpu().cpus = args.value("cpuset-cpus");
  if (args.has("cpuset-mems")) cpu().mems = args.value("cpuset-mems");
  if (args.has("pids-limit")) {
    r.pids.emplace();
    r.pids->limit = BERTH_TRY(number("pids-limit"));
  }
  if (args.has("blkio-weight")) {
    r.blockIO.emplace();
    r.blockIO->weight = static_cast<uint16_t>(BERTH_TRY(number("blkio-weight", 10, 1000)));
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
