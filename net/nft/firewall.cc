// Firewall: libnftables calls behind the pure scripts of rules.cc.
#include "net/nft/firewall.h"

#include <nftables/libnftables.h>

#include <nlohmann/json.hpp>

#include "runtime/sys/fs.h"

namespace berth::net::nft {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The chain names of table inet berth in `list chains inet` JSON output.
sys::Result<std::vector<std::string>> chainsOfListing(const std::string& json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("nftables") || !doc["nftables"].is_array()) {
    return sys::Error::invalid("unexpected nft JSON listing");
  }
  std::vector<std::string> chains;
  for (const auto& item : doc["nftables"]) {
    if (!item.contains("chain")) continue;
    const auto& c = item["chain"];
    if (c.value("family", "") == "inet" && c.value("table", "") == kTable) {
      chains.push_back(c.value("name", ""));
    }
  }
  return chains;
}

sys::Result<void> enableLocalnetFor(const ProjectRules& rules) {
  if (rules.ports.empty()) return sys::ok();
  return enableRouteLocalnet(rules.bridge).context("publish ports of project " + rules.project);
}

}  // namespace

void Firewall::CtxDeleter::operator()(nft_ctx* ctx) const {
  nft_ctx_free(ctx);
}

sys::Result<Firewall> Firewall::open() {
  std::unique_ptr<nft_ctx, CtxDeleter> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return sys::Error::fromErrno("create nftables context");
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return sys::Error::fromErrno("buffer nftables output");
  }
  return Firewall(std::move(ctx));
}

sys::Result<std::string> Firewall::run(const std::string& script, bool json) {
  unsigned flags = nft_ctx_output_get_flags(ctx_.get());
  nft_ctx_output_set_flags(
      ctx_.get(), json ? (flags | NFT_CTX_OUTPUT_JSON) : (flags & ~unsigned{NFT_CTX_OUTPUT_JSON}));
  int rc = nft_run_cmd_from_buffer(ctx_.get(), script.c_str());
  nft_ctx_output_set_flags(ctx_.get(), flags);
  // The buffers are reset by the next run, so copy them now.
  std::string out = nft_ctx_get_output_buffer(ctx_.get());
  std::string err = trimmed(nft_ctx_get_error_buffer(ctx_.get()));
  if (rc != 0) {
    return sys::Error::invalid("nftables: " + (err.empty() ? std::string("command failed") : err));
  }
  return out;
}

sys::Result<std::vector<std::string>> Firewall::projects() {
  // `list chains inet` succeeds without our table (an empty list), unlike
  // `list table inet berth`.
  std::string json = BERTH_TRY_CTX(run("list chains inet", true), "list berth chains");
  std::vector<std::string> chains = BERTH_TRY(chainsOfListing(json));
  return projectsOfChains(chains);
}

sys::Result<void> Firewall::ensureTable() {
  std::vector<std::string> existing = BERTH_TRY(projects());
  BERTH_TRY_CTX(run(baseScript(existing)), "create table inet berth");
  return sys::ok();
}

sys::Result<void> Firewall::apply(const ProjectRules& rules) {
  std::vector<std::string> existing = BERTH_TRY(projects());
  std::string script = BERTH_TRY(applyScript(rules, existing));
  // Before the DNAT rules exist, so no packet to 127.0.0.1 is rerouted to a
  // bridge that still refuses loopback sources.
  BERTH_TRY(enableLocalnetFor(rules));
  BERTH_TRY_CTX(run(script), "apply network rules of project " + rules.project);
  return sys::ok();
}

sys::Result<void> Firewall::remove(std::string_view project) {
  std::vector<std::string> existing = BERTH_TRY(projects());
  std::string script = BERTH_TRY(removeScript(project, existing));
  if (script.empty()) return sys::ok();
  BERTH_TRY_CTX(run(script), "remove network rules of project " + std::string(project));
  return sys::ok();
}

sys::Result<void> Firewall::reconcile(const std::vector<ProjectRules>& desired) {
  std::vector<std::string> existing = BERTH_TRY(projects());
  std::string script = BERTH_TRY(reconcileScript(desired, existing));
  for (const ProjectRules& r : desired) BERTH_TRY(enableLocalnetFor(r));
  BERTH_TRY_CTX(run(script), "reconcile network rules");
  return sys::ok();
}

sys::Result<std::string> Firewall::listTable() {
  return run("list table inet " + std::string(kTable)).context("list table inet berth");
}

sys::Result<void> Firewall::deleteTable() {
  // "add" first makes "delete" valid whether or not the table exists.
  std::string t(kTable);
  BERTH_TRY_CTX(run("add table inet " + t + "\ndelete table inet " + t + "\n"),
                "delete table inet berth");
  return sys::ok();
}

sys::Result<void> enableRouteLocalnet(std::string_view bridge) {
  std::string name(bridge);
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return sys::Error::invalid("bad bridge name '" + name + "'");
  }
  return sys::writeFile("/proc/sys/net/ipv4/conf/" + name + "/route_localnet", "1")
      .context("enable route_localnet on " + name);
}

}  // namespace berth::net::nft
