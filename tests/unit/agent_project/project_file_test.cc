// The project file parser: every bad fixture gets its message at its
// file:line:col, the good ones parse into the expected model, and files the
// project names are read only from inside the project directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "agent/project/project_file.h"

namespace berth::agent::project {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFixtures = BERTH_SOURCE_DIR "/tests/unit/agent_project/fixtures";

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A scratch project directory, removed even when the test fails.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("berth-project-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string path() const { return path_.string(); }
  void write(const std::string& name, const std::string& content) const {
    fs::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name) << content;
  }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

TEST(ProjectFileBad, EveryFixtureFailsWithItsMessageAndPosition) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(kFixtures + "/bad")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    std::string file = entry.path().string();
    std::string first = firstLine(file);
    ASSERT_TRUE(first.starts_with("# expect: ")) << file;
    std::string expected = first.substr(10);
    auto project = loadProject(file);
    ASSERT_FALSE(project.ok()) << file << " parsed";
    const std::string& message = project.error().what();
    // FILE:LINE:COLUMN: first, always.
    EXPECT_TRUE(std::regex_search(message, std::regex("^" + std::regex_replace(file, std::regex(R"([.+])"), R"(\$&)") +
                                                      R"(:[0-9]+:[0-9]+: )")))
        << message;
    bool positioned = std::isdigit(static_cast<unsigned char>(expected[0]));
    EXPECT_THAT(message, HasSubstr(positioned ? file + ":" + expected : expected)) << file;
  }
  EXPECT_GE(count, 20);
}

TEST(ProjectFileGood, DesignExample) {
  auto project = loadProject(kFixtures + "/good/virascience");
  ASSERT_TRUE(project.ok()) << project.error().what();
  EXPECT_EQ(project->name, "virascience");
  EXPECT_EQ(project->file, kFixtures + "/good/virascience/berth.yaml");
  ASSERT_EQ(project->services.size(), 4u);
  const Service& main = project->services[0];
  EXPECT_TRUE(main.isMain);
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.buildContext, ".");
  EXPECT_EQ(main.image, "");
  EXPECT_THAT(main.environment, ElementsAre("DJANGO_SETTINGS=prod"));
  EXPECT_THAT(main.volumes, ElementsAre("static:/app_data/static", "media:/app_data/media", "logs:/logs"));
  EXPECT_EQ(main.resources.memoryBytes, int64_t{2} << 30);
  EXPECT_EQ(main.resources.nanoCpus, 2000000000u);
  EXPECT_EQ(main.resources.diskBytes, uint64_t{10} << 30);
  EXPECT_EQ(main.mark.line, 3);
  EXPECT_EQ(project->services[1].name, "nginx");
  EXPECT_EQ(project->services[2].name, "mysql");
  EXPECT_EQ(project->services[3].name, "redis");
  const Service& nginx = project->services[1];
  ASSERT_EQ(nginx.configs.size(), 1u);
  EXPECT_EQ(nginx.configs[0].target, "/etc/nginx/nginx.conf");
  EXPECT_EQ(nginx.configs[0].source, "deploy/nginx.conf");
  EXPECT_THAT(nginx.configs[0].content, HasSubstr("proxy_pass http://main:5000"));
  EXPECT_EQ(nginx.configs[0].mode, 0444u);
  EXPECT_THAT(project->services[2].environment,
              ElementsAre("MARIADB_DATABASE=app", "MARIADB_ROOT_PASSWORD=secret"));
  ASSERT_EQ(project->volumes.size(), 4u);
  EXPECT_EQ(project->volumes[0].name, "db");  // sorted
  EXPECT_EQ(project->services[3].restart, Restart::kUnlessStopped);
  EXPECT_FALSE(project->publishPort);
  EXPECT_EQ(publicEntrance(*project), nullptr);  // main's port comes from its image later
}

TEST(ProjectFileGood, ComposeFile) {
  auto project = loadProject(kFixtures + "/good/compose");
  ASSERT_TRUE(project.ok()) << project.error().what();
  EXPECT_EQ(project->name, "shop");
  ASSERT_EQ(project->services.size(), 4u);
  const Service& web = project->services[0];
  EXPECT_FALSE(web.isMain);
  EXPECT_EQ(web.port, 80);
  EXPECT_EQ(web.labels.at("tier"), "backend");  // from the merge key
  EXPECT_EQ(web.restart, Restart::kUnlessStopped);
  ASSERT_EQ(web.dependsOn.size(), 1u);
  EXPECT_EQ(web.dependsOn[0].service, "api");
  EXPECT_EQ(web.dependsOn[0].condition, DependCondition::kHealthy);
  ASSERT_EQ(web.configs.size(), 1u);
  EXPECT_EQ(web.configs[0].content, "server { listen 80; }\n");
  EXPECT_EQ(web.configs[0].mode, 0440u);
  EXPECT_EQ(project->publishPort, 8080);
  EXPECT_EQ(publicEntrance(*project), &web);

  const Service& api = project->services[1];
  EXPECT_THAT(*api.command, ElementsAre("gunicorn", "-b", "0.0.0.0:5000", "app:create_app()"));
  // env_file first, environment overriding in place.
  EXPECT_THAT(api.environment, ElementsAre("SECRET=s3cr3t", "MODE=prod", "WORKERS=4", "DB_HOST=db"));
  EXPECT_EQ(api.port, 5000);
  ASSERT_TRUE(api.healthcheck);
  EXPECT_THAT(api.healthcheck->test, ElementsAre("CMD", "curl", "-f", "http://localhost:5000/health"));
  EXPECT_EQ(api.healthcheck->interval, std::chrono::milliseconds(90000));
  EXPECT_EQ(api.healthcheck->timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(api.healthcheck->startPeriod, std::chrono::milliseconds(10000));
  EXPECT_EQ(api.healthcheck->retries, 5);
  EXPECT_EQ(api.resources.memoryBytes, int64_t{512} << 20);
  EXPECT_EQ(api.resources.nanoCpus, 500000000u);
  EXPECT_EQ(api.resources.pids, 200);
  EXPECT_EQ(api.stopGracePeriodSeconds, 90u);
  EXPECT_EQ(api.stopSignal, "SIGINT");

  const Service& db = project->services[2];
  EXPECT_EQ(db.resources.memoryBytes, int64_t{1} << 30);
  EXPECT_EQ(db.resources.nanoCpus, 1250000000u);
  EXPECT_EQ(db.resources.pids, 100);
  EXPECT_EQ(db.restart, Restart::kNo);
  ASSERT_EQ(db.volumes.size(), 2u);
  EXPECT_EQ(db.volumes[0], "db-data:/var/lib/mysql");
  EXPECT_EQ(db.volumes[1], fs::canonical(kFixtures + "/good/compose/initdb").string() +
                               ":/docker-entrypoint-initdb.d:ro");
  const Service& cache = project->services[3];
  EXPECT_THAT(*cache.entrypoint, ElementsAre("redis-server", "--save", ""));
  EXPECT_THAT(cache.healthcheck->test, ElementsAre("NONE"));
  ASSERT_EQ(project->volumes.size(), 1u);
  EXPECT_EQ(project->volumes[0].labels.at("backup"), "daily");
}

TEST(ProjectFile, DirectoryWithoutProjectFile) {
  TempDir dir;
  auto project = loadProject(dir.path());
  ASSERT_FALSE(project.ok());
  EXPECT_THAT(project.error().what(), HasSubstr("no berth.yaml"));
}

TEST(ProjectFile, DirectoryPrefersBerthYamlThenCompose) {
  TempDir dir;
  dir.write("docker-compose.yml", "services:\n  a: {image: busybox}\n");
  auto compose = loadProject(dir.path());
  ASSERT_TRUE(compose.ok()) << compose.error().what();
  EXPECT_EQ(compose->services[0].name, "a");
  dir.write("berth.yaml", "name: p\nmain: {image: busybox, port: 8000}\npublish: 8001\n");
  auto berth = loadProject(dir.path());
  ASSERT_TRUE(berth.ok()) << berth.error().what();
  EXPECT_TRUE(berth->services[0].isMain);
  EXPECT_EQ(berth->publishPort, 8001);
  EXPECT_EQ(publicEntrance(*berth), &berth->services[0]);
}

TEST(ProjectFile, ConfigThroughEscapingSymlinkIsRefused) {
  TempDir outside;
  outside.write("secret", "root:x:0:0\n");
  TempDir dir;
  fs::create_symlink(outside.path() + "/secret", dir.path() + "/abs-link");
  fs::create_symlink("../../../../../../../" + outside.path() + "/secret", dir.path() + "/rel-link");
  for (const std::string link : {"abs-link", "rel-link"}) {
    std::string text = "name: p\nmain:\n  image: busybox\n  configs: [{source: " + link + ", target: /etc/x}]\n";
    auto project = parseProject(text, "berth.yaml", dir.path());
    ASSERT_FALSE(project.ok()) << link;
    EXPECT_THAT(project.error().what(), HasSubstr("berth.yaml:4:"));
    EXPECT_THAT(project.error().what(), HasSubstr("leads outside the project directory")) << link;
  }
  // The same through env_file.
  auto env = parseProject("name: p\nmain: {image: busybox, env_file: abs-link}\n", "berth.yaml", dir.path());
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(env.error().what(), HasSubstr("leads outside the project directory"));
  // An absolute path outside the project is refused before any open.
  auto absolute = parseProject("name: p\nmain:\n  image: busybox\n  configs: [{source: " + outside.path() +
                                   "/secret, target: /etc/x}]\n",
                               "berth.yaml", dir.path());
  ASSERT_FALSE(absolute.ok());
  EXPECT_THAT(absolute.error().what(), HasSubstr("is outside the project directory"));
}

TEST(ProjectFile, SymlinkInsideTheProjectIsFollowed) {
  TempDir dir;
  dir.write("conf/real.conf", "hello\n");
  dir.write("app.env", "# comment\nA=1\nB='two words'\n");
  fs::create_symlink("conf/real.conf", dir.path() + "/link.conf");
  auto project = parseProject(
      "name: p\nmain:\n  image: busybox\n  env_file: [app.env]\n  environment: [C=3]\n"
      "  configs: [{source: link.conf, target: /etc/x, mode: 0600, uid: 1000}, {content: inline, target: /etc/y}]\n",
      "berth.yaml", dir.path());
  ASSERT_TRUE(project.ok()) << project.error().what();
  const Service& main = project->services[0];
  EXPECT_THAT(main.environment, ElementsAre("A=1", "B=two words", "C=3"));
  ASSERT_EQ(main.configs.size(), 2u);
  EXPECT_EQ(main.configs[0].content, "hello\n");
  EXPECT_EQ(main.configs[0].mode, 0600u);
  EXPECT_EQ(main.configs[0].uid, 1000u);
  EXPECT_EQ(main.configs[1].content, "inline");
  EXPECT_EQ(main.configs[1].source, "");
}

TEST(ProjectFile, BindSourceEscapingTheProjectIsRefused) {
  TempDir dir;
  auto project = parseProject("name: p\nmain: {image: busybox, volumes: [\"../x:/x\"]}\n", "berth.yaml", dir.path());
  ASSERT_FALSE(project.ok());
  EXPECT_THAT(project.error().what(), HasSubstr("climbs out of the project directory"));
  // A missing relative bind source is created at deploy time, inside.
  auto created = parseProject("name: p\nmain: {image: busybox, volumes: [\"./data:/data:ro\"]}\n", "berth.yaml", dir.path());
  ASSERT_TRUE(created.ok()) << created.error().what();
  EXPECT_EQ(created->services[0].volumes[0], fs::canonical(dir.path()).string() + "/data:/data:ro,create");
}

TEST(ProjectFile, AtMost255ServicesBesidesMain) {
  auto text = [](int n) {
    std::string t = "name: big\nmain: {image: busybox}\nservices:\n";
    for (int i = 0; i < n; ++i) t += "  s" + std::to_string(i) + ": {image: busybox}\n";
    return t;
  };
  auto ok = parseProject(text(255), "berth.yaml", ".");
  ASSERT_TRUE(ok.ok()) << ok.error().what();
  EXPECT_EQ(ok->services.size(), 256u);
  auto tooMany = parseProject(text(256), "berth.yaml", ".");
  ASSERT_FALSE(tooMany.ok());
  EXPECT_THAT(tooMany.error().what(), HasSubstr("berth.yaml:259:3: services.s255: a project has at most 255 services"));
}

TEST(ProjectFile, NamesAreUniqueOnTheProjectNetwork) {
  auto hostname = parseProject("name: p\nservices:\n  a: {image: x}\n  b: {image: y, hostname: a}\n", "berth.yaml", ".");
  ASSERT_FALSE(hostname.ok());
  EXPECT_THAT(hostname.error().what(), HasSubstr("berth.yaml:4:27: services.b.hostname: the name 'a' is already used by service a"));
  auto own = parseProject("name: p\nservices:\n  a: {image: x, hostname: a, aliases: [a1]}\n", "berth.yaml", ".");
  EXPECT_TRUE(own.ok()) << own.error().what();
}

TEST(ProjectFile, ComposeProjectNameDefaultsToTheDirectory) {
  TempDir dir;
  dir.write("compose.yaml", "services:\n  main: {image: x, ports: [\"80\"]}\n");
  auto project = loadProject(dir.path());
  ASSERT_TRUE(project.ok()) << project.error().what();
  EXPECT_EQ(project->name, fs::path(dir.path()).filename().string());
  EXPECT_TRUE(project->services[0].isMain);
}

// A cheap stand-in for the fuzz target in the unit run: every truncation of
// the Compose fixture parses or fails with a positioned message, never throws.
TEST(ProjectFile, EveryPrefixParsesOrFailsWithAPosition) {
  std::ifstream in(kFixtures + "/good/compose/compose.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  for (size_t n = 0; n <= text.size(); ++n) {
    auto project = parseProject(std::string_view(text).substr(0, n), "compose.yaml", kFixtures + "/good/compose");
    if (!project.ok()) {
      EXPECT_TRUE(std::regex_search(project.error().what(), std::regex(R"(^compose\.yaml:[0-9]+:[0-9]+: )")))
          << n << ": " << project.error().what();
    }
  }
}

}  // namespace
}  // namespace berth::agent::project
