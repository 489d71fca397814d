// Container ids, names and lookups; see names.h.
#include "agent/engine/names.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <random>

namespace berth::agent::engine {
namespace {

constexpr size_t kIdBytes = 32;
constexpr size_t kMaxNameLength = 128;
constexpr int kPlainNameAttempts = 8;

constexpr std::array kAdjectives = {
    "admiring", "agitated", "amazing",    "angry",    "awesome", "blissful", "bold",
    "brave",    "busy",     "charming",   "clever",   "cool",    "dazzling", "eager",
    "ecstatic", "elegant",  "epic",       "festive",  "focused", "friendly", "gallant",
    "gifted",   "happy",    "hopeful",    "jolly",    "keen",    "kind",     "lucid",
    "modest",   "nifty",    "optimistic", "peaceful", "quirky",  "relaxed",  "serene",
    "sharp",    "stoic",    "sweet",      "tender",   "vibrant", "wizardly", "zealous"};

constexpr std::array kSurnames = {
    "albattani", "archimedes", "babbage",  "bohr",     "curie",   "darwin",  "dijkstra",
    "einstein",  "euclid",     "faraday",  "fermat",   "feynman", "galileo", "gauss",
    "hamilton",  "hopper",     "hypatia",  "kepler",   "knuth",   "lamport", "leavitt",
    "lovelace",  "maxwell",    "meitner",  "newton",   "noether", "pascal",  "pasteur",
    "ritchie",   "shannon",    "thompson", "torvalds", "turing",  "wozniak", "yalow"};

bool isLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool isNameChar(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

}  // namespace

sys::Result<std::string> generateContainerId() {
  std::array<unsigned char, kIdBytes> bytes{};
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("getrandom for a container id");
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(kIdBytes * 2);
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

std::string generateName(const std::function<bool(const std::string&)>& taken) {
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<size_t> adjective(0, kAdjectives.size() - 1);
  std::uniform_int_distribution<size_t> surname(0, kSurnames.size() - 1);
  for (int attempt = 0;; ++attempt) {
    std::string name =
        std::string(kAdjectives[adjective(random)]) + "_" + kSurnames[surname(random)];
    // Docker's trick once the plain names get crowded: a number at the end.
    if (attempt >= kPlainNameAttempts) name += std::to_string(attempt - kPlainNameAttempts + 1);
    if (!taken(name)) return name;
  }
}

bool isFullId(const std::string& text) {
  if (text.size() != kIdBytes * 2) return false;
  for (char c : text) {
    if (!isLowerHex(c)) return false;
  }
  return true;
}

sys::Result<void> validateName(const std::string& name) {
  auto invalid = [&](const std::string& why) {
    return sys::Error::invalid("invalid container name \"" + name + "\": " + why);
  };
  if (name.empty()) return invalid("empty");
  if (name.size() > kMaxNameLength) return invalid("longer than 128 characters");
  for (size_t i = 0; i < name.size(); ++i) {
    if (!isNameChar(name[i], i == 0)) {
      return invalid("only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
  }
  if (isFullId(name)) return invalid("a name may not look like a container id");
  return sys::ok();
}

bool NameIndex::add(const std::string& id, const std::string& name) {
  if (byName_.count(name) > 0 || byId_.count(id) > 0) return false;
  byId_[id] = name;
  byName_[name] = id;
  return true;
}

void NameIndex::remove(const std::string& id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  byName_.erase(it->second);
  byId_.erase(it);
}

std::optional<std::string> NameIndex::idOfName(const std::string& name) const {
  auto it = byName_.find(name);
  if (it == byName_.end()) return std::nullopt;
  return it->second;
}

sys::Result<std::string> NameIndex::resolve(const std::string& text) const {
  if (text.empty()) return sys::Error::invalid("no container given");
  if (byId_.count(text) > 0) return text;
  if (auto id = idOfName(text)) return *id;
  // Prefixes: every id starting with `text` sorts right after it.
  std::optional<std::string> found;
  for (auto it = byId_.lower_bound(text); it != byId_.end() && it->first.starts_with(text); ++it) {
    if (found) {
      return sys::Error::invalid("container id prefix \"" + text +
                                 "\" is ambiguous: give more characters or the name");
    }
    found = it->first;
  }
  if (!found) return sys::Error(ENOENT, "no such container: " + text);
  return *found;
}

}  // namespace berth::agent::engine
