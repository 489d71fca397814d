// berth-runtime's command line as a user sees it: output, messages and exit
// codes. runtimeMain runs in a forked child (it prints with printf and sets
// signal dispositions), its stdout and stderr captured in files; every
// command that touches state gets a private --root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/cli/globals.h"
#include "runtime/container/state.h"
#include "tests/unit/container/testutil.h"

namespace berth::runtime::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `berth-runtime args...`.
Output runtime(std::vector<std::string> args) {
  testing::TempDir io;
  std::string outPath = io.file("stdout"), errPath = io.file("stderr");
  args.insert(args.begin(), "berth-runtime");
  auto child = testing::runInChild([&] {
    sys::UniqueFd out(::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    sys::UniqueFd err(::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    sys::UniqueFd devnull(::open("/dev/null", O_RDONLY));
    if (!out || !err || !devnull) return 120;
    ::dup2(out.get(), STDOUT_FILENO);
    ::dup2(err.get(), STDERR_FILENO);
    ::dup2(devnull.get(), STDIN_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return runtimeMain(static_cast<int>(args.size()), argv.data());
  });
  Output run;
  EXPECT_TRUE(child.exited) << "signal " << child.signal << (child.timedOut ? " (timed out)" : "");
  run.code = child.code;
  run.out = testing::readText(outPath);
  run.err = testing::readText(errPath);
  return run;
}

TEST(RuntimeMain, Version) {
  Output r = runtime({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("berth-runtime version ") + BERTH_VERSION +
                       "\nspec: " + container::kOciVersion + "\n");
  EXPECT_EQ(runtime({"-v"}).out, r.out);
}

TEST(RuntimeMain, HelpListsCommandsAndGlobalFlags) {
  Output r = runtime({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, StartsWith("Usage: berth-runtime"));
  for (const auto& c : commands())
    EXPECT_THAT(r.out, HasSubstr(std::string("   ") + c.name + " ")) << c.name;
  EXPECT_THAT(r.out, HasSubstr("--root value"));
  EXPECT_THAT(r.out, HasSubstr("--log-format value"));
  EXPECT_EQ(r.err, "");
}

TEST(RuntimeMain, NoCommandPrintsHelpAndFails) {
  Output r = runtime({});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, StartsWith("Usage: berth-runtime"));
}

TEST(RuntimeMain, UnknownCommand) {
  Output r = runtime({"frobnicate", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "berth-runtime: no such command \"frobnicate\" (see berth-runtime --help)\n");
  EXPECT_EQ(r.out, "");
}

TEST(RuntimeMain, UnknownGlobalFlag) {
  Output r = runtime({"--frob", "state", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("flag provided but not defined: -frob"));
}

TEST(RuntimeMain, GlobalFlagMissingItsValue) {
  Output r = runtime({"--root"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("flag needs an argument: -root"));
}

TEST(RuntimeMain, LogFormatIsValidated) {
  Output r = runtime({"--log-format", "xml", "state", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--log-format must be text or json, got \"xml\""));
}

TEST(RuntimeMain, SystemdCgroupIsRefusedClearly) {
  Output r = runtime({"--systemd-cgroup", "state", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--systemd-cgroup: the systemd cgroup driver is not supported"));
}

TEST(RuntimeMain, RuncCompatibilityFlagsAreAccepted) {
  Output r = runtime({"--criu", "/usr/sbin/criu", "--rootless", "false", "--version"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Features, PrintsJsonWithTheSupportedVersions) {
  Output r = runtime({"features"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["ociVersionMax"], container::kOciVersion);
  EXPECT_TRUE(j.contains("ociVersionMin"));
}

TEST(Spec, WritesConfigJsonIntoTheBundleAndRefusesToOverwrite) {
  testing::TempDir bundle;
  Output r = runtime({"spec", "--bundle", bundle.path()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string config = testing::readText(bundle.file("config.json"));
  auto j = nlohmann::json::parse(config, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << config;
  EXPECT_TRUE(j.contains("ociVersion"));
  EXPECT_TRUE(j.contains("process"));
  EXPECT_TRUE(j.contains("root"));

  ASSERT_TRUE(testing::writeText(bundle.file("config.json"), "mine"));
  Output again = runtime({"spec", "-b", bundle.path()});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("config.json exists"));
  EXPECT_EQ(testing::readText(bundle.file("config.json")), "mine")
      << "an existing config is left alone";
}

TEST(Spec, RootlessSpecHasAUserNamespace) {
  testing::TempDir bundle;
  Output r = runtime({"spec", "--rootless", "--bundle", bundle.path()});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(testing::readText(bundle.file("config.json")), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  bool userns = false;
  for (const auto& ns : j["linux"]["namespaces"]) userns |= ns["type"] == "user";
  EXPECT_TRUE(userns);
}

TEST(Spec, AMissingBundleDirectoryFails) {
  testing::TempDir tmp;
  Output r = runtime({"spec", "--bundle", tmp.file("absent")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(tmp.file("absent")));
}

TEST(State, OfAMissingContainerNamesIt) {
  testing::TempDir root;
  Output r = runtime({"--root", root.path(), "state", "ghost"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("container \"ghost\" does not exist"));
  EXPECT_EQ(r.out, "");
}

TEST(State, NeedsAnId) {
  testing::TempDir root;
  Output r = runtime({"--root", root.path(), "state"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("a container id is required"));
}

TEST(State, AnInvalidIdIsRefusedBeforeTouchingTheRoot) {
  testing::TempDir root;
  Output r = runtime({"--root", root.path(), "state", "../etc"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("invalid container id"));
}

TEST(State, OfAStoppedContainerPrintsTheSpecState) {
  testing::TempDir root;
  container::StateDir dir(root.path(), "old");
  ASSERT_TRUE(sys::mkdirAll(dir.path()).ok());
  container::State s;
  s.id = "old";
  s.pid = 0;  // no process: stopped
  s.bundle = "/srv/old";
  s.annotations = {{"k", "v"}};
  ASSERT_TRUE(container::saveState(dir, s).ok());

  Output r = runtime({"--root", root.path(), "state", "old"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["id"], "old");
  EXPECT_EQ(j["status"], "stopped");
  EXPECT_EQ(j["pid"], 0);
  EXPECT_EQ(j["bundle"], "/srv/old");
  EXPECT_EQ(j["annotations"]["k"], "v");
}

TEST(CommandHelp, PrintsTheCommandUsage) {
  Output r = runtime({"kill", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out,
              HasSubstr("Usage: berth-runtime kill [command options] <container-id> [signal]"));
  EXPECT_THAT(r.out, HasSubstr("--all, -a"));
}

TEST(CommandFlags, AnUnknownFlagNamesTheCommand) {
  testing::TempDir root;
  Output r = runtime({"--root", root.path(), "delete", "--bogus", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("delete: flag provided but not defined: -bogus"));
}

TEST(Kill, ABadSignalFails) {
  testing::TempDir root;
  Output r = runtime({"--root", root.path(), "kill", "web", "SIGNOPE"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown signal \"SIGNOPE\""));
}

TEST(Kill, AMissingContainerFails) {
  testing::TempDir root;
  Output r = runtime({"--root", root.path(), "kill", "ghost", "KILL"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("container \"ghost\" does not exist"));
}

TEST(Kill, AStoppedContainerIsNotRunning) {
  testing::TempDir root;
  container::StateDir dir(root.path(), "old");
  ASSERT_TRUE(sys::mkdirAll(dir.path()).ok());
  container::State s;
  s.id = "old";
  ASSERT_TRUE(container::saveState(dir, s).ok());
  Output r = runtime({"--root", root.path(), "kill", "old", "TERM"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("container \"old\" is not running"));
}

TEST(Delete, AMissingContainerFailsUnlessForced) {
  testing::TempDir root;
  Output plain = runtime({"--root", root.path(), "delete", "ghost"});
  EXPECT_EQ(plain.code, 1);
  EXPECT_THAT(plain.err, HasSubstr("container \"ghost\" does not exist"));
  Output forced = runtime({"--root", root.path(), "delete", "--force", "ghost"});
  EXPECT_EQ(forced.code, 0) << forced.err;
}

TEST(List, EmptyRoot) {
  testing::TempDir root;
  Output table = runtime({"--root", root.path(), "list"});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, StartsWith("ID "));
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 1) << "only the header";

  Output json = runtime({"--root", root.path(), "list", "--format", "json"});
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(json.out, "[]\n");

  Output quiet = runtime({"--root", root.path(), "list", "-q"});
  EXPECT_EQ(quiet.code, 0);
  EXPECT_EQ(quiet.out, "");

  Output bad = runtime({"--root", root.path(), "list", "--format", "yaml"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--format must be table or json"));
}

TEST(Update, BadSizesAndNumbersFailBeforeTheContainerIsLookedUp) {
  testing::TempDir root;
  Output mem = runtime({"--root", root.path(), "update", "--memory", "64x", "ghost"});
  EXPECT_EQ(mem.code, 1);
  EXPECT_THAT(mem.err, HasSubstr("--memory: unknown unit"));

  Output nan = runtime({"--root", root.path(), "update", "--memory", "nan", "ghost"});
  EXPECT_EQ(nan.code, 1);
  EXPECT_THAT(nan.err, HasSubstr("--memory: not a size"));

  Output weight = runtime({"--root", root.path(), "update", "--blkio-weight", "70000", "ghost"});
  EXPECT_EQ(weight.code, 1);
  EXPECT_THAT(weight.err, HasSubstr("--blkio-weight: 70000 is out of range"));

  Output period = runtime({"--root", root.path(), "update", "--cpu-period", "-5", "ghost"});
  EXPECT_EQ(period.code, 1);
  EXPECT_THAT(period.err, HasSubstr("--cpu-period: -5 is out of range"));

  Output ok =
      runtime({"--root", root.path(), "update", "--memory", "64M", "--cpu-quota", "-1", "ghost"});
  EXPECT_EQ(ok.code, 1);
  EXPECT_THAT(ok.err, HasSubstr("container \"ghost\" does not exist"))
      << "valid flags reach the lookup";
}

TEST(Log, ErrorsGoToTheLogFileAsJson) {
  testing::TempDir tmp;
  std::string log = tmp.file("runtime.log");
  Output r =
      runtime({"--root", tmp.path(), "--log", log, "--log-format", "json", "state", "ghost"});
  EXPECT_EQ(r.code, 1);
  std::string text = testing::readText(log);
  ASSERT_FALSE(text.empty());
  auto line = nlohmann::json::parse(text.substr(0, text.find('\n')), nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << text;
  EXPECT_EQ(line["level"], "error");
  EXPECT_THAT(line["msg"].get<std::string>(), HasSubstr("container \"ghost\" does not exist"));
  EXPECT_TRUE(line.contains("time"));
}

TEST(Log, TextFormatByDefault) {
  testing::TempDir tmp;
  std::string log = tmp.file("runtime.log");
  Output r = runtime({"--root", tmp.path(), "--log", log, "state", "ghost"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(testing::readText(log), HasSubstr(" error: container \"ghost\" does not exist"));
}

}  // namespace
}  // namespace berth::runtime::cli
