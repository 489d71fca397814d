// The container engine test fixture; see engine_fixture.h.
#include "engine_fixture.h"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/logs/reader.h"
#include "agent/shim/shim.h"
#include "image/store/content_store.h"
#include "runtime/cgroup/manager.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"

namespace berth::tests::engine {
namespace {

bool gNamespacesReady = false;
std::string gSetupError;

std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string shimBinary() {
  if (const char* env = std::getenv("BERTH_SHIM")) return env;
  return std::string(BERTH_BUILD_DIR) + "/agent/berth-shim";
}

// The busybox OCI archive of hack/mkimage (cached in the build tree).
std::string ociArchive() {
  std::string out = std::string(BERTH_BUILD_DIR) + "/engine-test-image";
  auto [code, text] = shell(std::string(BERTH_SOURCE_DIR) + "/hack/mkimage " + out);
  if (code != 0) {
    ADD_FAILURE() << "hack/mkimage: " << text;
    return "";
  }
  return out + "/busybox-oci.tar";
}

std::string readBlob(const std::string& layout, const std::string& digest) {
  auto text = sys::readFile(layout + "/blobs/sha256/" + digest.substr(7));
  return text ? *text : "";
}

std::string writeBlob(const std::string& layout, const std::string& data) {
  auto digest = image::store::sha256Of(data);
  EXPECT_TRUE(sys::writeFileReplace(layout + "/blobs/sha256/" + std::string(digest.hex()), data));
  return digest.str();
}

// An OCI layout made from the busybox archive with Env, WorkingDir, User
// and a label added to its config (a new config and manifest blob).
std::string makeDerivedLayout(const std::string& archive, const std::string& dir) {
  auto [code, out] = shell("mkdir -p " + dir + " && tar -xf " + archive + " -C " + dir);
  EXPECT_EQ(code, 0) << out;
  auto index = nlohmann::json::parse(*sys::readFile(dir + "/index.json"));
  auto manifestDesc = index["manifests"][0];
  auto manifest = nlohmann::json::parse(readBlob(dir, manifestDesc["digest"]));
  auto config = nlohmann::json::parse(readBlob(dir, manifest["config"]["digest"]));
  config["config"]["Env"] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FROM_IMAGE=yes",
                             "OVERRIDE_ME=image"};
  config["config"]["WorkingDir"] = "/var/spool";
  config["config"]["User"] = "daemon";
  config["config"]["Labels"] = {{"io.berth.shell", "/bin/ash"}, {"origin", "image"}};
  std::string configText = config.dump();
  manifest["config"]["digest"] = writeBlob(dir, configText);
  manifest["config"]["size"] = configText.size();
  std::string manifestText = manifest.dump();
  nlohmann::json newIndex = {{"schemaVersion", 2},
                             {"manifests",
                              {{{"mediaType", manifestDesc["mediaType"]},
                                {"digest", writeBlob(dir, manifestText)},
                                {"size", manifestText.size()}}}}};
  EXPECT_TRUE(sys::writeFileReplace(dir + "/index.json", newIndex.dump()));
  return dir;
}

std::vector<std::string> listDir(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(path.c_str())) {
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  return names;
}

// Every directory named `name` directly under a cgroup hierarchy.
std::vector<std::string> cgroupDirsNamed(const std::string& name) {
  std::vector<std::string> found;
  for (const std::string& h : listDir("/sys/fs/cgroup")) {
    std::string dir = "/sys/fs/cgroup/" + h + "/" + name;
    if (sys::pathExists(dir)) found.push_back(dir);
  }
  return found;
}

}  // namespace



std::string cgroupFile(const std::string& cgroupsPath, const std::string& id,
                       const std::string& controller, const std::string& file) {
  auto manager = runtime::cgroup::openManager(cgroupsPath, id);
  if (!manager) return "<" + manager.error().str() + ">";
  std::string dir = (*manager)->pathFor(controller);
  auto text = sys::readFile(dir + "/" + file);
  if (!text) return "<" + text.error().str() + ">";
  std::string value = *text;
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

void EngineTest::SetUpTestSuite() {
  if (::geteuid() != 0 || gNamespacesReady) return;
  // Before any thread exists: a new thread inherits the namespaces of the
  // thread that creates it, so the engine's threads and the shims live here.
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
    gSetupError = std::string("unshare: ") + std::strerror(errno);
    return;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    gSetupError = std::string("make / private: ") + std::strerror(errno);
    return;
  }
  gNamespacesReady = true;
}

void EngineTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "the engine tests need root (mounts, cgroups, namespaces)";
  ASSERT_TRUE(gNamespacesReady) << gSetupError;
  if (::access(shimBinary().c_str(), X_OK) != 0) GTEST_SKIP() << shimBinary() << " is not built";
  char tmpl[] = "/tmp/berth-engine-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  tmp_ = tmpl;
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  cgroupParent_ = "berth-engine-test-" + std::to_string(::getpid()) + "-" + test;
  paths_.dataRoot = tmp_ + "/data";
  paths_.runRoot = tmp_ + "/run";
  paths_.shimBinary = shimBinary();
  paths_.runtimeBinary = std::string(BERTH_BUILD_DIR) + "/runtime/berth-runtime";
  paths_.cgroupParent = cgroupParent_;
  options_.paths = paths_;
  options_.restartBackoffStart = 300ms;
  options_.restartBackoffCap = 2s;

  auto images = agent::images::ImageService::open(paths_.dataRoot);
  ASSERT_TRUE(images) << images.error().str();
  images_ = std::move(*images);
  std::string archive = ociArchive();
  ASSERT_FALSE(archive.empty());
  pb::ImageImportRequest import;
  import.set_path(archive);
  auto imported = images_->import(import);
  ASSERT_TRUE(imported) << imported.error().str();
  import.set_path(makeDerivedLayout(archive, tmp_ + "/derived"));
  import.set_reference(derivedImage_);
  imported = images_->import(import);
  ASSERT_TRUE(imported) << imported.error().str();

  auto engine = eng::ContainerEngine::open(options_, *images_);
  ASSERT_TRUE(engine) << engine.error().str();
  engine_ = std::move(*engine);
  ASSERT_TRUE(engine_->recover());
}

void EngineTest::restartEngine() {
  engine_.reset();
  auto engine = eng::ContainerEngine::open(options_, *images_);
  ASSERT_TRUE(engine) << engine.error().str();
  engine_ = std::move(*engine);
  auto recovered = engine_->recover();
  ASSERT_TRUE(recovered) << recovered.error().str();
}

void EngineTest::TearDown() {
  if (tmp_.empty()) return;
  if (engine_) {
    pb::ContainerListRequest all;
    all.set_all(true);
    if (auto list = engine_->list(all)) {
      for (const auto& c : list->containers()) {
        pb::ContainerRemoveRequest rm;
        rm.set_id(c.id());
        rm.set_force(true);
        auto removed = engine_->remove(rm);
        EXPECT_TRUE(removed) << c.name() << ": " << removed.error().str();
      }
    }
    engine_.reset();
  }
  // The sweep behind a failed test: every runtime container killed and
  // deleted, every rootfs unmounted.
  std::string stateRoot = paths_.runtimeStateRoot();
  for (const std::string& id : listDir(stateRoot)) {
    std::string warnings;
    (void)runtime::container::deleteContainer(stateRoot, id, true, &warnings);
    ADD_FAILURE() << "runtime state of " << id << " was left behind";
  }
  for (const std::string& id : listDir(paths_.containersRoot())) {
    (void)storage::rootfs::remove(paths_.containerDir(id));
    ADD_FAILURE() << "container directory " << id << " was left behind";
  }
  for (const std::string& dir : cgroupDirsNamed(cgroupParent_)) {
    for (const std::string& child : listDir(dir)) {
      std::string sub = dir + "/" + child;
      if (sys::pathExists(sub + "/cgroup.procs") && ::rmdir(sub.c_str()) == 0) {
        ADD_FAILURE() << "cgroup " << sub << " was left behind";
      }
    }
    ::rmdir(dir.c_str());
  }
  EXPECT_TRUE(cgroupDirsNamed(cgroupParent_).empty());
  images_.reset();
  auto removed = sys::removeAll(tmp_);
  EXPECT_TRUE(removed) << removed.error().str();
}

eng::EngineOptions EngineTest::engineOptions() const {
  return options_;
}

pb::ContainerSpec EngineTest::spec(const std::vector<std::string>& cmd,
                                   pb::RestartPolicyKind restart) const {
  pb::ContainerSpec s;
  s.set_image(image_);
  for (const std::string& c : cmd) s.add_cmd(c);
  s.mutable_restart()->set_kind(restart);
  return s;
}

std::string EngineTest::runContainer(const pb::ContainerSpec& spec) {
  pb::ContainerRunRequest run;
  *run.mutable_spec() = spec;
  auto reply = engine_->run(run);
  EXPECT_TRUE(reply) << reply.error().str();
  return reply ? reply->id() : "";
}

pb::ContainerInfo EngineTest::inspect(const std::string& id) {
  pb::ContainerInspectRequest request;
  request.set_id(id);
  auto info = engine_->inspect(request);
  EXPECT_TRUE(info) << info.error().str();
  return info ? *info : pb::ContainerInfo();
}

bool EngineTest::waitExited(const std::string& id, std::chrono::milliseconds timeout) {
  return waitUntil([&] { return inspect(id).summary().state() == pb::STATE_EXITED; }, timeout);
}

std::string EngineTest::containerDir(const std::string& id) const {
  return paths_.containerDir(id);
}

std::vector<LoggedLine> EngineTest::logLines(const std::string& id) const {
  std::vector<LoggedLine> lines;
  std::map<int, size_t> open;  // a line written in pieces is joined, per stream
  auto r = agent::logs::readLogs(containerDir(id), agent::shim::kLogBaseName, {},
                                 [&](const agent::logs::LogLine& l) {
                                   int key = static_cast<int>(l.stream);
                                   if (auto it = open.find(key); it != open.end()) {
                                     lines[it->second].text += std::string(l.bytes);
                                     if (!l.partial) open.erase(it);
                                     return true;
                                   }
                                   lines.push_back({key, std::string(l.bytes), l.timeNs});
                                   if (l.partial) open[key] = lines.size() - 1;
                                   return true;
                                 });
  EXPECT_TRUE(r) << r.error().str();
  return lines;
}

std::string EngineTest::logText(const std::string& id) const {
  std::string text;
  for (const LoggedLine& line : logLines(id)) text += line.text + "\n";
  return text;
}

}  // namespace berth::tests::engine
