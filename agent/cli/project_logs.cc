// berth logs PROJECT; see project_logs.h.
#include "agent/cli/project_logs.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <ostream>
#include <queue>
#include <thread>
#include <tuple>

#include "agent/cli/log_printer.h"
#include "agent/project/container_spec_of.h"

namespace berth::agent::cli {

std::vector<std::pair<size_t, size_t>> mergeByTime(const std::vector<std::vector<pb::LogEntry>>& sources) {
  // (time, source, entry): the smallest first; ties by source, then entry.
  using Head = std::tuple<int64_t, size_t, size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
  size_t total = 0;
  for (size_t s = 0; s < sources.size(); ++s) {
    total += sources[s].size();
    if (!sources[s].empty()) heads.emplace(sources[s][0].timestamp_ns(), s, 0);
  }
  std::vector<std::pair<size_t, size_t>> order;
  order.reserve(total);
  while (!heads.empty()) {
    auto [time, s, i] = heads.top();
    heads.pop();
    order.emplace_back(s, i);
    if (i + 1 < sources[s].size()) heads.emplace(sources[s][i + 1].timestamp_ns(), s, i + 1);
  }
  return order;
}

std::string servicePrefix(const std::string& service, size_t width) {
  std::string out = service;
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out + " | ";
}

namespace {

std::string serviceOf(const pb::ContainerSummary& c) {
  auto it = c.labels().find(project::kServiceLabel);
  return it == c.labels().end() || it->second.empty() ? c.name() : it->second;
}

// One container's printer, writing under the shared lock.
struct Source {
  std::string id;
  std::string service;
  std::unique_ptr<LogPrinter> printer;
};

// The history of every container up to `request`'s until, merged. False
// (after printing why) when a container's logs could not be read.
bool printHistory(Context& ctx, api::Client& client, const pb::LogsRequest& request,
                  std::vector<Source>& sources) {
  std::vector<std::vector<pb::LogEntry>> entries(sources.size());
  bool ok = true;
  for (size_t i = 0; i < sources.size(); ++i) {
    pb::LogsRequest one = request;
    one.set_id(sources[i].id);
    auto ended = client.logs(one, [&](const pb::LogEntry& entry) {
      entries[i].push_back(entry);
      return true;
    });
    if (!ended.ok()) {
      ctx.fail(sources[i].service + ": " + errorText(ended.error()));
      ok = false;
    }
  }
  for (auto [s, i] : mergeByTime(entries)) sources[s].printer->add(entries[s][i]);
  return ok;
}

// Follows every container on its own connection (a streaming call holds
// its connection), printing whole entries under one lock.
bool followAll(Context& ctx, const pb::LogsRequest& request, std::vector<Source>& sources) {
  std::mutex mu;
  std::vector<std::string> errors(sources.size());
  std::vector<std::thread> threads;
  const std::string socket = ctx.socketPath();
  for (size_t i = 0; i < sources.size(); ++i) {
    threads.emplace_back([&, i] {
      auto client = api::Client::connect(socket);
      if (!client.ok()) {
        errors[i] = errorText(client.error());
        return;
      }
      pb::LogsRequest one = request;
      one.set_id(sources[i].id);
      auto ended = client->logs(one, [&](const pb::LogEntry& entry) {
        std::lock_guard lock(mu);
        sources[i].printer->add(entry);
        ctx.out().flush();
        ctx.err().flush();
        return true;
      });
      if (!ended.ok()) errors[i] = errorText(ended.error());
    });
  }
  for (std::thread& t : threads) t.join();
  bool ok = true;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (errors[i].empty()) continue;
    ctx.fail(sources[i].service + ": " + errors[i]);
    ok = false;
  }
  return ok;
}

}  // namespace

int printProjectLogs(Context& ctx, const pb::LogsRequest& base,
                     const std::vector<pb::ContainerSummary>& containers) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  size_t width = 0;
  for (const pb::ContainerSummary& c : containers) width = std::max(width, serviceOf(c).size());
  std::vector<Source> sources;
  for (const pb::ContainerSummary& c : containers) {
    sources.push_back({c.id(), serviceOf(c),
                       std::make_unique<LogPrinter>(ctx.out(), ctx.err(), base.timestamps(),
                                                    servicePrefix(serviceOf(c), width))});
  }
  // The history ends at `now` (until is inclusive), the follow starts just
  // after it (since is inclusive): no line twice, none lost in between.
  const int64_t now = ctx.io().nowNs();
  pb::LogsRequest history = base;
  history.set_follow(false);
  if (base.follow() && (base.until_ns() == 0 || base.until_ns() > now)) history.set_until_ns(now);
  bool ok = printHistory(ctx, **client, history, sources);
  if (base.follow() && (base.until_ns() == 0 || base.until_ns() > now)) {
    ctx.out().flush();
    pb::LogsRequest follow = base;
    follow.clear_tail();
    follow.set_since_ns(std::max(base.since_ns(), now + 1));
    ok = followAll(ctx, follow, sources) && ok;
  }
  for (Source& s : sources) s.printer->finish();
  return ok ? kExitOk : kExitFailed;
}

}  // namespace berth::agent::cli
