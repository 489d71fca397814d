// Tables of images, containers and stats.
#include "agent/cli/table_views.h"

#include <cstdio>

#include "agent/cli/units.h"

namespace berth::agent::cli {

std::pair<std::string, std::string> splitReference(const std::string& reference) {
  if (auto at = reference.find('@'); at != std::string::npos) {
    return {reference.substr(0, at), "<none>"};
  }
  size_t slash = reference.rfind('/');
  size_t colon = reference.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    return {reference.substr(0, colon), reference.substr(colon + 1)};
  }
  return {reference, "latest"};
}

Table imageTable(const pb::ImageListReply& images, int64_t nowNs) {
  Table table({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  for (const auto& image : images.images()) {
    std::string created = humanAgo(image.created_ns(), nowNs);
    std::string size = formatSizeDecimal(image.size());
    if (image.references().empty()) {
      table.add({"<none>", "<none>", shortId(image.id()), created, size});
    }
    for (const auto& reference : image.references()) {
      auto [repo, tag] = splitReference(reference);
      table.add({repo, tag, shortId(image.id()), created, size});
    }
  }
  return table;
}

std::string commandCell(const pb::ContainerSummary& summary, bool noTrunc) {
  std::string joined;
  for (const auto& arg : summary.command()) {
    if (!joined.empty()) joined += ' ';
    joined += arg;
  }
  return "\"" + (noTrunc ? joined : truncateText(joined, 20)) + "\"";
}

std::string statusCell(const pb::ContainerSummary& s, int64_t nowNs) {
  if (!s.status().empty()) return s.status();
  auto since = [&](int64_t t) { return t > 0 ? humanDuration(nowNs - t) : std::string("?"); };
  switch (s.state()) {
    case pb::STATE_RUNNING:
      return "Up " + since(s.started_ns());
    case pb::STATE_EXITED:
      return "Exited (" + std::to_string(s.exit_code()) + ") " + since(s.finished_ns()) + " ago";
    case pb::STATE_RESTARTING:
      return "Restarting (" + std::to_string(s.exit_code()) + ") " + since(s.finished_ns()) +
             " ago";
    case pb::STATE_CREATED:
      return "Created";
    case pb::STATE_PAUSED:
      return "Up " + since(s.started_ns()) + " (Paused)";
    case pb::STATE_REMOVING:
      return "Removal In Progress";
    case pb::STATE_DEAD:
      return "Dead";
    default:
      return "Unknown";
  }
}

Table containerTable(const pb::ContainerListReply& list, int64_t nowNs, bool noTrunc) {
  Table table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "RESTARTS", "NAMES"});
  for (const auto& c : list.containers()) {
    table.add({noTrunc ? c.id() : shortId(c.id()), c.image(), commandCell(c, noTrunc),
               humanAgo(c.created_ns(), nowNs), statusCell(c, nowNs),
               std::to_string(c.restart_count()), c.name()});
  }
  return table;
}

namespace {

std::string percent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", value);
  return buf;
}

}  // namespace

Table statsTable(const pb::StatsBatch& batch) {
  Table table({"CONTAINER", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"});
  for (const auto& s : batch.containers()) {
    bool limited = s.memory_limit() != 0;
    std::string memory = formatSizeBinary(s.memory_usage()) + " / " +
                         (limited ? formatSizeBinary(s.memory_limit()) : "unlimited");
    std::string memPercent = limited ? percent(100.0 * static_cast<double>(s.memory_usage()) /
                                               static_cast<double>(s.memory_limit()))
                                     : "--";
    table.add({shortId(s.id()), s.name(), percent(s.cpu_percent()), memory, memPercent,
               std::to_string(s.pids())});
  }
  return table;
}

}  // namespace berth::agent::cli
