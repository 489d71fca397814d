// libFuzzer target for the project file parser: any bytes given as a
// berth.yaml or a Compose file must end in a Project or an error naming a
// position, never a crash, a hang, an escaped yaml-cpp exception or a
// sanitizer report. A parsed project also goes through containerSpecOf and
// the planner. The first byte picks the format; relative files resolve in a
// scratch project directory holding a config and an env file.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "agent/project/container_spec_of.h"
#include "agent/project/plan.h"
#include "agent/project/project_file.h"

namespace {

namespace project = berth::agent::project;

const std::string& projectDir() {
  static const std::string dir = [] {
    char pattern[] = "/tmp/berth-project-fuzz-XXXXXX";
    std::string made = ::mkdtemp(pattern) ? pattern : "/tmp";
    std::ofstream(made + "/nginx.conf") << "events {}\n";
    std::ofstream(made + "/app.env") << "# env\nA=1\nB=\"two\"\n";
    return made;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* name = (data[0] & 1) ? "compose.yaml" : "berth.yaml";
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = project::parseProject(text, name, projectDir());
  if (!parsed) {
    // Every error starts with the file's name and a position.
    if (parsed.error().what().rfind(name, 0) != 0) __builtin_trap();
    return 0;
  }
  std::vector<project::CurrentContainer> current;
  for (const project::Service& service : parsed->services) {
    auto spec = project::containerSpecOf(*parsed, service);
    current.push_back({service.name, service.name, project::specHash(spec), project::ContainerState::kRunning});
  }
  auto plan = project::planDeploy(*parsed, current);
  if (!plan.changesNothing()) __builtin_trap();
  (void)project::publicEntrance(*parsed);
  return 0;
}
