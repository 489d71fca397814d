// berth's firewall: runs the scripts of rules.h through libnftables.
//
// A Firewall owns one libnftables context. Its netlink socket talks to the
// network namespace of the thread that created the Firewall (berthd: the
// node's; tests: a throwaway netns), so create and use it on one thread
// that stays in that namespace. Calls are not synchronized: the caller
// (berthd's network manager) serializes them, because apply/remove/reconcile
// read the list of projects and then write in one transaction.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/nft/rules.h"
#include "runtime/sys/result.h"

struct nft_ctx;

namespace berth::net::nft {

class Firewall {
 public:
  [[nodiscard]] static sys::Result<Firewall> open();

  // Creates `table inet berth` and its base chains if missing; keeps the
  // projects already there.
  [[nodiscard]] sys::Result<void> ensureTable();
  // Adds or replaces one project's rules in one atomic transaction. When the
  // project publishes ports, sets route_localnet=1 on its bridge (which must
  // exist) so the node reaches them at 127.0.0.1 too.
  [[nodiscard]] sys::Result<void> apply(const ProjectRules& rules);
  // Deletes the project's chains and jumps; absent project: no-op.
  [[nodiscard]] sys::Result<void> remove(std::string_view project);
  // Makes the table hold exactly `desired` (berthd restart): stale projects
  // removed, desired ones refilled, all in one transaction.
  [[nodiscard]] sys::Result<void> reconcile(const std::vector<ProjectRules>& desired);
  // Projects that have chains in the table now (sorted); none if no table.
  [[nodiscard]] sys::Result<std::vector<std::string>> projects();
  // `list table inet berth` as nft text (for comparisons and debugging).
  [[nodiscard]] sys::Result<std::string> listTable();
  // Deletes the whole table (uninstall); absent table: no-op.
  [[nodiscard]] sys::Result<void> deleteTable();
  // Runs an nft script; returns its output. Errors carry nft's message.
  [[nodiscard]] sys::Result<std::string> run(const std::string& script, bool json = false);

 private:
  struct CtxDeleter {
    void operator()(nft_ctx* ctx) const;
  };
  explicit Firewall(std::unique_ptr<nft_ctx, CtxDeleter> ctx) : ctx_(std::move(ctx)) {}
  std::unique_ptr<nft_ctx, CtxDeleter> ctx_;
};

// Writes 1 to /proc/sys/net/ipv4/conf/<bridge>/route_localnet in the calling
// thread's network namespace.
[[nodiscard]] sys::Result<void> enableRouteLocalnet(std::string_view bridge);

}  // namespace berth::net::nft
