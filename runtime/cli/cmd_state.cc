// `state`, `list` and `ps`.
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/cli/globals.h"
#include "runtime/container/lifecycle.h"

namespace berth::runtime::cli {

int cmdState(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[3], {}, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  auto info = container::inspectContainer(g.root, id);
  if (!info) return fail(g, info.error());
  auto j = nlohmann::json::parse(container::stateJson(info->state, info->status));
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

int cmdList(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  static const std::vector<FlagSpec> kFlags = {
      {"format", "f", true, "table or json"},
      {"quiet", "q", false, "print only the container ids"},
  };
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[8], kFlags, argv, first, &args, &rc)) return rc;
  auto all = container::listContainers(g.root);
  if (!all) return fail(g, all.error());
  std::string format = args.value("format", "table");
  if (args.flag("quiet")) {
    for (const auto& c : *all) std::printf("%s\n", c.state.id.c_str());
    return 0;
  }
  if (format == "json") {
    auto arr = nlohmann::json::array();
    for (const auto& c : *all) arr.push_back(nlohmann::json::parse(container::stateJson(c.state, c.status)));
    std::printf("%s\n", arr.dump().c_str());
    return 0;
  }
  if (format != "table") return fail(g, "--format must be table or json, got \"" + format + "\"");
  std::printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (const auto& c : *all) {
    int pid = c.status == container::Status::kStopped ? 0 : c.state.pid;
    std::printf("%-20s %-8d %-10s %-40s %-32s %s\n", c.state.id.c_str(), pid, container::statusName(c.status),
                c.state.bundle.c_str(), c.state.created.c_str(), c.state.owner == 0 ? "root" : "user");
  }
  return 0;
}

namespace {

// Runs `ps <opts>` and keeps the header plus the lines of the container's
// pids, as runc does.
int psTable(const Globals& g, const std::vector<pid_t>& pids, std::vector<std::string> psArgs) {
  if (psArgs.empty()) psArgs = {"-ef"};
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) return fail(g, sys::Error::fromErrno("pipe"));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  std::vector<std::string> argvS = {"ps"};
  argvS.insert(argvS.end(), psArgs.begin(), psArgs.end());
  std::vector<char*> cargv;
  for (auto& s : argvS) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  pid_t child;
  int err = ::posix_spawnp(&child, "ps", &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (err) {
    ::close(out[0]);
    return fail(g, sys::Error(err, "run ps"));
  }
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status;
  ::waitpid(child, &status, 0);
  std::istringstream lines(text);
  std::string line, header;
  std::getline(lines, header);
  std::printf("%s\n", header.c_str());
  // Find the PID column from the header.
  std::istringstream hs(header);
  std::string col;
  int pidCol = -1, idx = 0;
  while (hs >> col) {
    if (col == "PID") pidCol = idx;
    ++idx;
  }
  if (pidCol < 0) return fail(g, "ps output has no PID column");
  while (std::getline(lines, line)) {
    std::istringstream ls(line);
    std::string field;
    for (int i = 0; i <= pidCol && (ls >> field); ++i) {
    }
    pid_t p = static_cast<pid_t>(std::atoi(field.c_str()));
    if (std::find(pids.begin(), pids.end(), p) != pids.end()) std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace

int cmdPs(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  static const std::vector<FlagSpec> kFlags = {{"format", "f", true, "table or json"}};
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[7], kFlags, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  auto pids = container::containerPids(g.root, id);
  if (!pids) return fail(g, pids.error());
  std::string format = args.value("format", "table");
  if (format == "json") {
    std::printf("%s\n", nlohmann::json(*pids).dump().c_str());
    return 0;
  }
  if (format != "table") return fail(g, "--format must be table or json, got \"" + format + "\"");
  std::vector<std::string> psArgs(args.positionals().begin() + 1, args.positionals().end());
  return psTable(g, *pids, psArgs);
}

}  // namespace berth::runtime::cli
