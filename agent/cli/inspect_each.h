// `berth inspect`, `berth image inspect` and the other per-name calls: ask
// about each name, print one JSON array of what was found (docker's shape)
// or, for removals, each name removed; a name that fails is reported on
// stderr and makes the exit code 1, the others still go on.
#pragma once

#include <string>
#include <vector>

#include "agent/cli/context.h"
#include "agent/cli/json_views.h"

namespace berth::agent::cli {

// `inspect(client, name)` returns a CallResult of the reply; `toJson` turns
// a reply into its JSON document.
template <class Inspect, class ToJson>
int inspectEach(Context& ctx, const std::vector<std::string>& names, Inspect inspect,
                ToJson toJson) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  Json doc = Json::array();
  int code = kExitOk;
  for (const auto& name : names) {
    auto info = inspect(**client, name);
    if (info.ok()) {
      doc.push_back(toJson(*info));
    } else {
      code = ctx.fail(info.error());
    }
  }
  ctx.out() << dumpJson(doc);
  return code;
}

// `remove(client, name)` returns a CallResult; each name removed is printed.
template <class Remove>
int removeEach(Context& ctx, const std::vector<std::string>& names, Remove remove) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  int code = kExitOk;
  for (const auto& name : names) {
    auto removed = remove(**client, name);
    if (!removed.ok()) {
      code = ctx.fail(removed.error());
      continue;
    }
    ctx.out() << name << "\n";
  }
  return code;
}

}  // namespace berth::agent::cli
