// Container ids and names: random 64-hex ids, Docker-like generated names
// ("brave_turing"), the rules a user's name must follow, and finding a
// container by full id, name or unique id prefix (Docker's order).
//
// Pure apart from the random source, so the rules are unit-tested.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "runtime/sys/result.h"

namespace berth::agent::engine {

// 32 random bytes from getrandom(2), as 64 lowercase hex characters.
sys::Result<std::string> generateContainerId();

// "adjective_surname". `taken` says whether a candidate is already used; after
// a few collisions a number is appended ("brave_turing3"), so it always ends.
std::string generateName(const std::function<bool(const std::string&)>& taken);

// Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters, and not
// something that looks like an id (64 hex), which would make lookups ambiguous.
sys::Result<void> validateName(const std::string& name);

bool isFullId(const std::string& text);

// The ids and names of a daemon's containers, for lookups.
class NameIndex {
 public:
  // False when the name is taken.
  bool add(const std::string& id, const std::string& name);
  void remove(const std::string& id);
  bool nameTaken(const std::string& name) const { return byName_.count(name) > 0; }
  std::optional<std::string> idOfName(const std::string& name) const;

  // The id for `text`: a full id, a name, or a unique prefix of an id.
  // ENOENT "no such container: X"; an ambiguous prefix is EINVAL naming it.
  sys::Result<std::string> resolve(const std::string& text) const;

 private:
  std::map<std::string, std::string> byId_;    // id -> name
  std::map<std::string, std::string> byName_;  // name -> id
};

}  // namespace berth::agent::engine
