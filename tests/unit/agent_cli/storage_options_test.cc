// The storage flags of berth run/create/update (-v, --config, --disk) and
// what reaches berthd: agent/cli/container_options.h.
#include <gtest/gtest.h>

#include <map>

#include "agent/cli/commands.h"
#include "agent/cli/container_options.h"

namespace berth::agent::cli {
namespace {

Io filesIo(std::map<std::string, std::string> files) {
  Io io;
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

TEST(StorageOptions, VolumesConfigsDisk) {
  Io io = filesIo({{"nginx.conf", "worker_processes 1;\n"}, {"my.cnf", "[mysqld]\n"}});
  auto spec = specOf({"-v", "data:/var/lib/db", "--volume=/srv:/srv:ro,rslave", "--config",
                      "nginx.conf:/etc/nginx/nginx.conf", "--config", "my.cnf:/etc/my.cnf:0440:999:998",
                      "--disk", "64M", "img"},
                     io);
  ASSERT_TRUE(spec) << spec.error().str();
  ASSERT_EQ(spec->volumes_size(), 2);
  EXPECT_EQ(spec->volumes(0), "data:/var/lib/db");
  EXPECT_EQ(spec->volumes(1), "/srv:/srv:ro,rslave");
  ASSERT_EQ(spec->configs_size(), 2);
  EXPECT_EQ(spec->configs(0).target(), "/etc/nginx/nginx.conf");
  EXPECT_EQ(spec->configs(0).content(), "worker_processes 1;\n");
  EXPECT_FALSE(spec->configs(0).has_mode());
  EXPECT_FALSE(spec->configs(0).has_uid());
  EXPECT_EQ(spec->configs(1).mode(), 0440u);
  EXPECT_EQ(spec->configs(1).uid(), 999u);
  EXPECT_EQ(spec->configs(1).gid(), 998u);
  EXPECT_EQ(spec->disk_bytes(), 64u << 20);
}

TEST(StorageOptions, Errors) {
  Io io = filesIo({{"f", "x"}});
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {{"-v", "data", "img"}, "expected SOURCE"},
           {{"-v", "./rel:/x", "img"}, "absolute"},
           {{"--config", "missing:/etc/x", "img"}, "open missing"},
           {{"--config", "f", "img"}, "expected FILE"},
           {{"--config", "f:etc/x", "img"}, "absolute file path"},
           {{"--config", "f:/etc/", "img"}, "absolute file path"},
           {{"--config", "f:/etc/x:999", "img"}, "mode"},
           {{"--config", "f:/etc/x:0644:1", "img"}, "expected FILE"},
           {{"--config", "f:/etc/x:0644:a:1", "img"}, "uid"},
           {{"--disk", "lots", "img"}, "lots"},
       }) {
    auto spec = specOf(c.args, io);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_FALSE(spec) << joined;
    if (!spec) {
      EXPECT_NE(spec.error().str().find(c.says), std::string::npos) << joined << spec.error().str();
    }
  }
}

TEST(StorageOptions, UpdateDisk) {
  std::vector<FlagSpec> flags = {{"memory", 'm', true, "", ""}, {"cpus", 0, true, "", ""},
                                 {"pids-limit", 0, true, "", ""}, {"restart", 0, true, "", ""},
                                 {"disk", 0, true, "", ""}};
  auto parsed = parseArgs({"--disk", "1G", "c"}, flags);
  ASSERT_TRUE(parsed);
  auto request = buildUpdateRequest(*parsed);
  ASSERT_TRUE(request) << request.error().str();
  EXPECT_TRUE(request->has_disk_bytes());
  EXPECT_EQ(request->disk_bytes(), 1ull << 30);
  EXPECT_FALSE(request->has_memory_bytes());
}

}  // namespace
}  // namespace berth::agent::cli
