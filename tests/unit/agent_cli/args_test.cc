// The flag parser and every command's flags mapped onto its request.
#include "agent/cli/args.h"

#include <gtest/gtest.h>

#include "agent/cli/commands.h"
#include "agent/cli/container_options.h"

namespace berth::agent::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {
    {"detach", 'd', false, "", ""}, {"interactive", 'i', false, "", ""},
    {"tty", 't', false, "", ""},    {"env", 'e', true, "", ""},
    {"name", 0, true, "", ""},
};

TEST(ParseArgs, LongShortGroupedAndInline) {
  auto a = parseArgs({"-it", "--name=web", "-eA=1", "-e", "B=2", "--env", "C=3", "img"}, kSpecs);
  ASSERT_TRUE(a.ok()) << a.error().str();
  EXPECT_TRUE(a->flag("interactive"));
  EXPECT_TRUE(a->flag("tty"));
  EXPECT_FALSE(a->flag("detach"));
  EXPECT_EQ(a->value("name"), "web");
  EXPECT_EQ(a->values("env"), (std::vector<std::string>{"A=1", "B=2", "C=3"}));
  EXPECT_EQ(a->positionals(), std::vector<std::string>{"img"});
}

TEST(ParseArgs, StopsAtFirstPositionalForPrograms) {
  auto a =
      parseArgs({"-d", "img", "ls", "-l", "--name", "x"}, kSpecs, {.stopAtFirstPositional = true});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->flag("detach"));
  EXPECT_FALSE(a->has("name"));
  EXPECT_EQ(a->positionals(), (std::vector<std::string>{"img", "ls", "-l", "--name", "x"}));
  // Without it, flags may follow positionals (docker's ps, rm, stop).
  auto b = parseArgs({"a", "-d", "b"}, kSpecs);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->flag("detach"));
  EXPECT_EQ(b->positionals(), (std::vector<std::string>{"a", "b"}));
}

TEST(ParseArgs, DoubleDashEndsFlagsAndDashIsPositional) {
  auto a = parseArgs({"--", "-d", "-"}, kSpecs);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->flag("detach"));
  EXPECT_EQ(a->positionals(), (std::vector<std::string>{"-d", "-"}));
}

TEST(ParseArgs, ErrorsNameTheFlag) {
  auto unknown = parseArgs({"--bogus"}, kSpecs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().what(), "unknown flag: --bogus");
  auto shortUnknown = parseArgs({"-dx"}, kSpecs);
  ASSERT_FALSE(shortUnknown.ok());
  EXPECT_NE(shortUnknown.error().what().find("'x'"), std::string::npos);
  auto missing = parseArgs({"--name"}, kSpecs);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().what(), "flag needs an argument: --name");
  EXPECT_FALSE(parseArgs({"-e"}, kSpecs).ok());
  EXPECT_EQ(parseArgs({"-ed"}, kSpecs)->value("env"), "d");  // the rest is the value
  auto badBool = parseArgs({"--detach=maybe"}, kSpecs);
  ASSERT_FALSE(badBool.ok());
}

TEST(ParseArgs, BooleansCanBeSetFalseAndHelpIsRecognised) {
  auto a = parseArgs({"--detach=false", "-h"}, kSpecs);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->flag("detach"));
  EXPECT_TRUE(a->helpRequested());
  EXPECT_TRUE(parseArgs({"--help"}, kSpecs)->helpRequested());
  // A command whose own flag is -h keeps it.
  std::vector<FlagSpec> withH = {{"host", 'h', true, "", ""}};
  auto b = parseArgs({"-h", "x"}, withH);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->value("host"), "x");
  EXPECT_FALSE(b->helpRequested());
}

TEST(ParseArgs, HelpTextListsFlags) {
  std::string help = flagsHelp(kSpecs);
  EXPECT_NE(help.find("-d, --detach"), std::string::npos);
  EXPECT_NE(help.find("--name string"), std::string::npos);
  EXPECT_NE(help.find("--help"), std::string::npos);
}

// ------------------------------------------------------------ run / create

Io testIo(std::map<std::string, std::string> env = {},
          std::map<std::string, std::string> files = {}) {
  Io io;
  io.env = [env](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  io.readFile = [files](const std::string& p) -> sys::Result<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return sys::Error(ENOENT, "open " + p);
    return it->second;
  };
  return io;
}

sys::Result<pb::ContainerSpec> specOf(const std::vector<std::string>& args, const Io& io) {
  auto parsed = BERTH_TRY(parseArgs(args, containerFlags(), {.stopAtFirstPositional = true}));
  return buildContainerSpec(parsed, io);
}

TEST(ContainerOptions, NetworkFlags) {
  auto spec = specOf({"--network", "proj", "--alias", "www", "--alias", "api", "-p", "8080:80",
                      "--publish", "5353:53/udp", "--hostname", "front", "busybox"},
                     testIo());
  ASSERT_TRUE(spec) << spec.error().str();
  ASSERT_EQ(spec->networks_size(), 1);
  EXPECT_EQ(spec->networks(0), "proj");
  ASSERT_EQ(spec->aliases_size(), 2);
  EXPECT_EQ(spec->aliases(0), "www");
  EXPECT_EQ(spec->aliases(1), "api");
  ASSERT_EQ(spec->publish_size(), 2);
  EXPECT_EQ(spec->publish(0), "8080:80");
  EXPECT_EQ(spec->publish(1), "5353:53/udp");
  EXPECT_EQ(spec->hostname(), "front");
}

TEST(ContainerOptions, EveryFlagLandsInTheSpec) {
  auto spec = specOf({"--name",
                      "web",
                      "-e",
                      "A=1",
                      "-w",
                      "/srv",
                      "-u",
                      "1000:1000",
                      "--entrypoint",
                      "/bin/sh",
                      "-t",
                      "-i",
                      "--memory",
                      "512m",
                      "--cpus",
                      "1.5",
                      "--pids-limit",
                      "100",
                      "--restart",
                      "on-failure:3",
                      "--rm",
                      "--hostname",
                      "h1",
                      "-l",
                      "tier=web",
                      "-l",
                      "flag",
                      "--stop-signal",
                      "SIGINT",
                      "--stop-timeout",
                      "20",
                      "debian:12",
                      "echo",
                      "-n",
                      "hi"},
                     testIo());
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  EXPECT_EQ(spec->image(), "debian:12");
  EXPECT_EQ(spec->cmd_size(), 3);
  EXPECT_EQ(spec->cmd(1), "-n");
  EXPECT_EQ(spec->name(), "web");
  EXPECT_EQ(spec->env(0), "A=1");
  EXPECT_EQ(spec->workdir(), "/srv");
  EXPECT_EQ(spec->user(), "1000:1000");
  ASSERT_TRUE(spec->has_entrypoint());
  EXPECT_EQ(spec->entrypoint().values(0), "/bin/sh");
  EXPECT_TRUE(spec->tty());
  EXPECT_TRUE(spec->stdin());
  EXPECT_EQ(spec->memory_bytes(), 512LL << 20);
  EXPECT_EQ(spec->nano_cpus(), 1'500'000'000u);
  EXPECT_EQ(spec->pids_limit(), 100);
  EXPECT_EQ(spec->restart().kind(), pb::RESTART_ON_FAILURE);
  EXPECT_EQ(spec->restart().max_retries(), 3u);
  EXPECT_TRUE(spec->auto_remove());
  EXPECT_EQ(spec->hostname(), "h1");
  EXPECT_EQ(spec->labels().at("tier"), "web");
  EXPECT_EQ(spec->labels().at("flag"), "");
  EXPECT_EQ(spec->stop_signal(), "SIGINT");
  EXPECT_EQ(spec->stop_timeout(), 20u);
}

TEST(ContainerOptions, DefaultsLeaveTheImageInCharge) {
  auto spec = specOf({"alpine"}, testIo());
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(spec->has_entrypoint());
  EXPECT_FALSE(spec->has_restart());
  EXPECT_FALSE(spec->has_stop_timeout());
  EXPECT_EQ(spec->cmd_size(), 0);
  EXPECT_EQ(spec->memory_bytes(), 0);
  // --entrypoint "" clears the image's entrypoint: set, but empty.
  auto cleared = specOf({"--entrypoint", "", "alpine"}, testIo());
  ASSERT_TRUE(cleared->has_entrypoint());
  EXPECT_EQ(cleared->entrypoint().values_size(), 0);
}

TEST(ContainerOptions, EnvWithoutValueComesFromOurEnvironment) {
  auto spec = specOf({"-e", "HOME", "-e", "UNSET", "-e", "X=", "img"}, testIo({{"HOME", "/root"}}));
  ASSERT_TRUE(spec.ok());
  ASSERT_EQ(spec->env_size(), 3);
  EXPECT_EQ(spec->env(0), "HOME=/root");
  EXPECT_EQ(spec->env(1), "UNSET");
  EXPECT_EQ(spec->env(2), "X=");
  EXPECT_FALSE(specOf({"-e", "=v", "img"}, testIo()).ok());
}

TEST(ContainerOptions, EnvFileFirstThenFlags) {
  Io io = testIo({{"FROM_HOST", "yes"}},
                 {{"app.env", "# comment\n\nA=from-file\n  B=2\r\nFROM_HOST\n"}});
  auto spec = specOf({"--env-file", "app.env", "-e", "A=from-flag", "img"}, io);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  std::vector<std::string> env(spec->env().begin(), spec->env().end());
  EXPECT_EQ(env, (std::vector<std::string>{"A=from-file", "B=2", "FROM_HOST=yes", "A=from-flag"}));
  auto missing = specOf({"--env-file", "nope.env", "img"}, io);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().str().find("nope.env"), std::string::npos);
  auto bad = parseEnvFile("A=1\n=2\n", "x.env", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().what().find("x.env:2"), std::string::npos);
}

TEST(ContainerOptions, BadValuesNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    const char* flag;
  };
  for (const auto& c : std::vector<Case>{{{"--memory", "lots", "i"}, "--memory"},
                                         {{"--cpus", "x", "i"}, "--cpus"},
                                         {{"--pids-limit", "-5", "i"}, "--pids-limit"},
                                         {{"--restart", "sometimes", "i"}, "--restart"},
                                         {{"--stop-timeout", "-1", "i"}, "--stop-timeout"},
                                         {{"-l", "=v", "i"}, "label"}}) {
    auto spec = specOf(c.args, testIo());
    ASSERT_FALSE(spec.ok()) << c.flag;
    EXPECT_NE(spec.error().what().find(c.flag), std::string::npos) << spec.error().what();
  }
  EXPECT_FALSE(specOf({}, testIo()).ok());
}

// ------------------------------------------------------------ other commands

// A copy: the group's vector is a temporary.
Command find(const std::vector<Command>& commands, const std::string& name) {
  for (const auto& c : commands) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no command " << name;
  return {};
}

ParsedArgs parse(const Command& c, const std::vector<std::string>& args) {
  auto parsed = parseArgs(args, c.flags, c.parse);
  EXPECT_TRUE(parsed.ok()) << parsed.error().str();
  return parsed.ok() ? *parsed : ParsedArgs();
}

TEST(CommandFlags, Update) {
  Command update = find(lifecycleCommands(), "update");
  auto r = buildUpdateRequest(parse(update, {"--memory", "1g", "--cpus", "0.5", "--pids-limit",
                                             "-1", "--restart", "always", "web"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->memory_bytes(), 1LL << 30);
  EXPECT_EQ(r->nano_cpus(), 500'000'000u);
  EXPECT_EQ(r->pids_limit(), -1);
  EXPECT_EQ(r->restart().kind(), pb::RESTART_ALWAYS);
  auto onlyCpus = buildUpdateRequest(parse(update, {"--cpus", "2", "web"}));
  ASSERT_TRUE(onlyCpus.ok());
  EXPECT_FALSE(onlyCpus->has_memory_bytes());
  EXPECT_FALSE(onlyCpus->has_pids_limit());
  EXPECT_FALSE(onlyCpus->has_restart());
  EXPECT_FALSE(buildUpdateRequest(parse(update, {"web"})).ok());
  EXPECT_FALSE(buildUpdateRequest(parse(update, {"--memory", "x", "web"})).ok());
}

TEST(CommandFlags, Logs) {
  Command logs = find(logsCommands(), "logs");
  const int64_t now = 1'700'000'000'000'000'000;
  auto r = buildLogsRequest(
      parse(logs, {"-f", "--tail", "10", "--since", "10m", "--until", "1700000000", "-t", "web"}),
      now);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->id(), "web");
  EXPECT_TRUE(r->follow());
  EXPECT_TRUE(r->timestamps());
  EXPECT_EQ(r->tail(), 10u);
  EXPECT_EQ(r->since_ns(), now - 600'000'000'000);
  EXPECT_EQ(r->until_ns(), now);
  auto all = buildLogsRequest(parse(logs, {"--tail", "all", "web"}), now);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->has_tail());
  EXPECT_FALSE(buildLogsRequest(parse(logs, {"--tail", "-3", "web"}), now).ok());
  EXPECT_FALSE(buildLogsRequest(parse(logs, {"--since", "soon", "web"}), now).ok());
}

TEST(CommandFlags, ExecAndShell) {
  Command exec = find(execCommands(), "exec");
  EnvLookup env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "TERM") return std::string("xterm");
    return std::nullopt;
  };
  auto r = buildExecStart(
      parse(exec, {"-it", "-e", "TERM", "-u", "nobody", "-w", "/tmp", "web", "ls", "-la"}), env);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(), "web");
  EXPECT_EQ(r->cmd_size(), 2);
  EXPECT_EQ(r->cmd(1), "-la");
  EXPECT_EQ(r->env(0), "TERM=xterm");
  EXPECT_EQ(r->user(), "nobody");
  EXPECT_EQ(r->workdir(), "/tmp");
  EXPECT_TRUE(r->tty());
  EXPECT_TRUE(r->stdin());
  Command shell = find(execCommands(), "shell");
  auto s = buildShellStart(parse(shell, {"--shell", "/bin/bash", "-u", "0", "web"}), env);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->shell(), "/bin/bash");
  EXPECT_EQ(s->user(), "0");
}

TEST(CommandFlags, EveryCommandHasHelp) {
  for (auto group : {imageCommands, runCommands, lifecycleCommands, listCommands, logsCommands,
                     execCommands, statsCommands}) {
    for (const auto& c : group()) {
      std::string help = commandHelp(c);
      EXPECT_NE(help.find("Usage:  berth " + c.name), std::string::npos);
      EXPECT_FALSE(c.summary.empty()) << c.name;
      EXPECT_TRUE(c.run) << c.name;
    }
  }
}

TEST(CommandFlags, OutputFormat) {
  std::vector<FlagSpec> specs = {kFormatFlag};
  EXPECT_EQ(*outputFormat(*parseArgs({}, specs)), OutputFormat::kTable);
  EXPECT_EQ(*outputFormat(*parseArgs({"--format", "json"}, specs)), OutputFormat::kJson);
  EXPECT_FALSE(outputFormat(*parseArgs({"--format", "{{.ID}}"}, specs)).ok());
}

}  // namespace
}  // namespace berth::agent::cli
