// `features` and `spec`.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "runtime/cli/globals.h"
#include "runtime/config/default_spec.h"
#include "runtime/config/features.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cli {

int cmdFeatures(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[12], {}, argv, first, &args, &rc)) return rc;
  std::printf("%s\n", config::featuresJson().c_str());
  return 0;
}

int cmdSpec(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  static const std::vector<FlagSpec> kFlags = {
      {"bundle", "b", true, "directory to write config.json into"},
      {"rootless", nullptr, false, "a spec for a rootless container"},
  };
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[13], kFlags, argv, first, &args, &rc)) return rc;
  std::string path = sys::joinPath(args.value("bundle", "."), "config.json");
  if (sys::pathExists(path)) return fail(g, "File " + path + " exists. Remove it first");
  auto r = sys::writeFileAtomic(path, config::defaultSpecJson(args.flag("rootless")), 0644);
  return r ? 0 : fail(g, r.error());
}

}  // namespace berth::runtime::cli
