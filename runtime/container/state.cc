// Container state files; see state.h.
#include "runtime/container/state.h"

#include <limits.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <type_traits>

#include "runtime/sys/fs.h"

namespace berth::runtime::container {

using nlohmann::json;

const char* statusName(Status s) {
  switch (s) {
    case Status::kCreating: return "creating";
    case Status::kCreated: return "created";
    case Status::kRunning: return "running";
    case Status::kPaused: return "paused";
    case Status::kStopped: return "stopped";
  }
  return "unknown";
}

StateDir::StateDir(std::string root, std::string id)
    : root_(std::move(root)), id_(std::move(id)), dir_(sys::joinPath(root_, id_)) {}

sys::Result<void> validateContainerId(const std::string& id) {
  if (id.empty()) return sys::Error::invalid("container id must not be empty");
  // The id names the state directory: longer than one path component, it
  // would only fail later, at mkdir, with "File name too long".
  if (id.size() > NAME_MAX) {
    return sys::Error::invalid("container id is too long (" + std::to_string(id.size()) + " bytes, at most " +
                               std::to_string(NAME_MAX) + ")");
  }
  if (id[0] == '.') return sys::Error::invalid("invalid container id \"" + id + "\": must not start with '.'");
  for (char c : id) {
    bool okChar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '.';
    if (!okChar) {
      return sys::Error::invalid("invalid container id \"" + id +
                                 "\": only letters, digits and _+-. are allowed");
    }
  }
  return sys::ok();
}

sys::Result<void> saveState(const StateDir& dir, const State& s) {
  json j = {
      {"id", s.id},           {"pid", s.pid},         {"initStartTime", s.initStartTime},
      {"bundle", s.bundle},   {"rootfs", s.rootfs},   {"created", s.created},
      {"cgroupsPath", s.cgroupsPath}, {"owner", s.owner}, {"annotations", s.annotations},
  };
  return sys::writeFileReplace(dir.stateFile(), j.dump(), 0600);
}

namespace {

// Reads an optional field of the state file. nlohmann's value() throws on a
// type mismatch, and runtime code must not throw: a hand-edited or torn
// state file is reported instead.
template <class T>
bool readField(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!it->is_number_unsigned()) return false;
  } else {
    if (!it->is_number_integer()) return false;
  }
  *out = it->get<T>();
  return true;
}

}  // namespace

sys::Result<State> loadState(const StateDir& dir) {
  auto text = sys::readFile(dir.stateFile());
  if (!text) {
    if (text.error().code() == ENOENT) {
      return sys::Error(ENOENT, "container \"" + dir.id() + "\" does not exist");
    }
    return std::move(text).error();
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return sys::Error::invalid("corrupt state file " + dir.stateFile());
  }
  State s;
  s.id = dir.id();
  const char* bad = nullptr;
  if (!readField(j, "id", &s.id)) bad = "id";
  if (!readField(j, "pid", &s.pid)) bad = "pid";
  if (!readField(j, "initStartTime", &s.initStartTime)) bad = "initStartTime";
  if (!readField(j, "bundle", &s.bundle)) bad = "bundle";
  if (!readField(j, "rootfs", &s.rootfs)) bad = "rootfs";
  if (!readField(j, "created", &s.created)) bad = "created";
  if (!readField(j, "cgroupsPath", &s.cgroupsPath)) bad = "cgroupsPath";
  if (!readField(j, "owner", &s.owner)) bad = "owner";
  if (auto a = j.find("annotations"); a != j.end() && !a->is_null()) {
    if (!a->is_object()) {
      bad = "annotations";
    } else {
      for (auto& [k, v] : a->items()) {
        if (v.is_string()) s.annotations[k] = v.get<std::string>();
      }
    }
  }
  if (bad) {
    return sys::Error::invalid("corrupt state file " + dir.stateFile() + ": bad field \"" + bad + "\"");
  }
  return s;
}

std::string stateJson(const State& s, Status status) {
  json j = {{"ociVersion", kOciVersion}, {"id", s.id}, {"status", statusName(status)},
            {"pid", status == Status::kStopped ? 0 : s.pid}, {"bundle", s.bundle}};
  if (!s.rootfs.empty()) j["rootfs"] = s.rootfs;
  if (!s.created.empty()) j["created"] = s.created;
  j["owner"] = s.owner == 0 ? "root" : std::to_string(s.owner);
  j["annotations"] = s.annotations;
  return j.dump();
}

unsigned long long processStartTime(pid_t pid) {
  if (pid <= 0) return 0;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  auto text = sys::readFile(path);
  if (!text) return 0;
  // The command name (field 2) may contain spaces and parens: parse after the last ')'.
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return 0;
  const char* p = text->c_str() + close + 2;
  char state = *p;
  if (state == 'Z' || state == 'X') return 0;
  // Fields after the name start at field 3 (state); starttime is field 22.
  int field = 3;
  while (*p && field < 22) {
    if (*p++ == ' ') ++field;
  }
  return std::strtoull(p, nullptr, 10);
}

bool initAlive(const State& s) {
  auto t = processStartTime(s.pid);
  return t != 0 && t == s.initStartTime;
}

std::string nowRfc3339() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

}  // namespace berth::runtime::container
