// Namespace bookkeeping for create and exec: which namespaces a container
// gets new, which it joins by path, and the clone flags that follow.
#pragma once

#include <string>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

// CLONE_NEWPID for "pid", ... ; 0 for an unknown type.
int namespaceFlag(const std::string& type);
// The /proc/<pid>/ns/<name> entry name for a CLONE_NEW* flag ("net" for network).
const char* namespaceProcName(int flag);

struct NamespacePlan {
  int newFlags = 0;  // namespaces to create
  struct Join {
    int flag;
    sys::UniqueFd fd;
  };
  std::vector<Join> joins;  // user first, then the others in spec order
  bool has(int flag) const;
};

// Opens every namespace path now, so a bad path fails before anything is created.
sys::Result<NamespacePlan> planNamespaces(const config::Spec& spec);

}  // namespace berth::runtime::container
