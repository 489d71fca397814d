// `kill` and `delete`.
#include <signal.h>

#include "runtime/cli/globals.h"
#include "runtime/container/lifecycle.h"
#include "runtime/linux/signals.h"

namespace berth::runtime::cli {

int cmdKill(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  static const std::vector<FlagSpec> kFlags = {
      {"all", "a", false, "send the signal to every process of the container"},
  };
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[4], kFlags, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  int sig = SIGTERM;
  if (args.positionals().size() > 1) {
    auto parsed = parseSignal(args.positionals()[1]);
    if (!parsed) return fail(g, parsed.error());
    sig = *parsed;
  }
  auto r = container::killContainer(g.root, id, sig, args.flag("all"));
  if (!r) return fail(g, r.error());
  return 0;
}

int cmdDelete(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  static const std::vector<FlagSpec> kFlags = {
      {"force", "f", false, "kill a running container and delete it"},
  };
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[5], kFlags, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  std::string warnings;
  auto r = container::deleteContainer(g.root, id, args.flag("force"), &warnings);
  if (!warnings.empty()) warn(g, warnings);
  if (!r) return fail(g, r.error());
  return 0;
}

}  // namespace berth::runtime::cli
