// Generation of berth's nft script text (see rules.h for the table layout).
#include "net/nft/rules.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

namespace berth::net::nft {
namespace {

// Base chain name, chain type, hook and priority. Numbers, not the symbolic
// names, because nft accepts "dstnat" only on some hooks of some families.
struct BaseChain {
  std::string_view name;
  std::string_view type;
  int priority;
};
constexpr BaseChain kBaseChains[] = {
    {"prerouting", "nat", -100},  // DNAT before routing decides input/forward
    {"output", "nat", -100},      // DNAT of the node's own connections
    {"postrouting", "nat", 100},  // masquerade after routing picked oif
    {"forward", "filter", 0},    {"input", "filter", 0},
};

bool isNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '.' || c == '-');
}

sys::Result<in_addr> parseAddr(std::string_view text, std::string_view field) {
  in_addr addr{};
  std::string copy(text);
  if (inet_pton(AF_INET, copy.c_str(), &addr) != 1) {
    return sys::Error::invalid(std::string(field) + " '" + copy + "' is not an IPv4 address");
  }
  return addr;
}

struct Cidr {
  uint32_t network = 0;  // host order
  int prefix = 0;
  bool contains(in_addr a) const {
    uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return (ntohl(a.s_addr) & mask) == network;
  }
};

sys::Result<Cidr> parseCidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return sys::Error::invalid("subnet '" + std::string(text) + "' has no /prefix");
  }
  in_addr addr = BERTH_TRY(parseAddr(text.substr(0, slash), "subnet"));
  std::string_view len = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (ec != std::errc() || end != len.data() + len.size() || prefix < 1 || prefix > 30) {
    return sys::Error::invalid("subnet '" + std::string(text) + "' needs a prefix of 1..30");
  }
  uint32_t mask = ~uint32_t{0} << (32 - prefix);
  uint32_t host = ntohl(addr.s_addr);
  if ((host & mask) != host) {
    return sys::Error::invalid("subnet '" + std::string(text) + "' has host bits set");
  }
  return Cidr{host, prefix};
}

std::string_view protoName(Proto p) {
  return p == Proto::kTcp ? "tcp" : "udp";
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string ruleHead(std::string_view project, std::string_view hook) {
  return "add rule inet " + std::string(kTable) + " " + chainName(project, hook) + " ";
}

sys::Result<void> validatePorts(const ProjectRules& r, const Cidr& subnet) {
  std::set<std::pair<Proto, uint16_t>> seen;
  for (const PublishedPort& p : r.ports) {
    std::string what = std::string(protoName(p.proto)) + " port " + std::to_string(p.hostPort);
    if (p.hostPort == 0 || p.containerPort == 0) {
      return sys::Error::invalid("published " + what + ": ports must be 1..65535");
    }
    in_addr addr =
        BERTH_TRY_CTX(parseAddr(p.containerAddr, "container address"), "published " + what);
    if (!subnet.contains(addr)) {
      return sys::Error::invalid("published " + what + ": container address " + p.containerAddr +
                                 " is outside subnet " + r.subnet);
    }
    if (!seen.insert({p.proto, p.hostPort}).second) {
      return sys::Error::invalid(what + " is published twice");
    }
  }
  return sys::ok();
}

}  // namespace

sys::Result<void> validateProjectName(std::string_view project) {
  if (project.empty() || project.size() > 64) {
    return sys::Error::invalid("project name '" + std::string(project) +
                               "' must have 1..64 characters");
  }
  for (size_t i = 0; i < project.size(); ++i) {
    if (!isNameChar(project[i], i == 0)) {
      return sys::Error::invalid("project name '" + std::string(project) +
                                 "' may contain only a-z, 0-9, '_', '.', '-' (not first)");
    }
  }
  return sys::ok();
}

sys::Result<void> validate(const ProjectRules& r) {
  BERTH_TRY(validateProjectName(r.project));
  auto ctx = "network rules of project " + r.project;
  bool bridgeOk = !r.bridge.empty() && r.bridge.size() < IFNAMSIZ;
  for (char c : r.bridge) {
    bridgeOk = bridgeOk && (isNameChar(c, false) || (c >= 'A' && c <= 'Z'));
  }
  if (!bridgeOk) {
    return sys::Error::invalid(ctx + ": bad bridge name '" + r.bridge + "'");
  }
  Cidr subnet = BERTH_TRY_CTX(parseCidr(r.subnet), ctx);
  in_addr gw = BERTH_TRY_CTX(parseAddr(r.gateway, "gateway"), ctx);
  if (!subnet.contains(gw)) {
    return sys::Error::invalid(ctx + ": gateway " + r.gateway + " is outside " + r.subnet);
  }
  return validatePorts(r, subnet).context(ctx);
}

std::string chainName(std::string_view project, std::string_view hook) {
  return std::string(kChainPrefix) + std::string(project) + "-" + std::string(hook);
}

std::string projectOfChain(std::string_view chain) {
  if (!chain.starts_with(kChainPrefix)) return "";
  for (std::string_view hook : kHooks) {
    std::string suffix = "-" + std::string(hook);
    if (chain.size() > kChainPrefix.size() + suffix.size() && chain.ends_with(suffix)) {
      return std::string(
          chain.substr(kChainPrefix.size(), chain.size() - kChainPrefix.size() - suffix.size()));
    }
  }
  return "";
}

std::vector<std::string> projectsOfChains(const std::vector<std::string>& chains) {
  std::set<std::string> projects;
  for (const std::string& c : chains) {
    std::string p = projectOfChain(c);
    if (!p.empty()) projects.insert(std::move(p));
  }
  return {projects.begin(), projects.end()};
}

std::string baseScript(const std::vector<std::string>& projects) {
  std::string t(kTable);
  std::string s = "add table inet " + t + "\n";
  for (const BaseChain& c : kBaseChains) {
    s += "add chain inet " + t + " " + std::string(c.name) + " { type " + std::string(c.type) +
         " hook " + std::string(c.name) + " priority " + std::to_string(c.priority) +
         "; policy accept; }\n";
  }
  // Flushing and refilling in the same transaction leaves no moment without
  // the jumps, and makes repeating the script a no-op.
  for (const BaseChain& c : kBaseChains) {
    s += "flush chain inet " + t + " " + std::string(c.name) + "\n";
  }
  std::set<std::string> sorted(projects.begin(), projects.end());
  // A jump needs its target to exist already; "add chain" is a no-op for
  // chains that do.
  for (const std::string& p : sorted) {
    for (std::string_view hook : kHooks)
      s += "add chain inet " + t + " " + chainName(p, hook) + "\n";
  }
  for (const BaseChain& c : kBaseChains) {
    for (const std::string& p : sorted) {
      s +=
          "add rule inet " + t + " " + std::string(c.name) + " jump " + chainName(p, c.name) + "\n";
    }
  }
  return s;
}

std::string projectChainsScript(const ProjectRules& r) {
  std::string t(kTable);
  std::string s;
  for (std::string_view hook : kHooks) {
    s += "add chain inet " + t + " " + chainName(r.project, hook) + "\n";
    s += "flush chain inet " + t + " " + chainName(r.project, hook) + "\n";
  }
  std::string br = quoted(r.bridge);
  // Published ports: DNAT whatever is addressed to one of the node's own
  // addresses (fib ... type local), from outside (prerouting), from the node
  // itself (output; 127.0.0.1 included, see postrouting) and from the
  // project's own containers (prerouting; hairpin, see postrouting).
  for (std::string_view hook : {std::string_view("prerouting"), std::string_view("output")}) {
    for (const PublishedPort& p : r.ports) {
      s += ruleHead(r.project, hook) + "meta nfproto ipv4 fib daddr type local " +
           std::string(protoName(p.proto)) + " dport " + std::to_string(p.hostPort) +
           " dnat ip to " + p.containerAddr + ":" + std::to_string(p.containerPort) + "\n";
    }
  }
  std::string post = ruleHead(r.project, "postrouting");
  // Outbound: containers leave with the node's address.
  s += post + "ip saddr " + r.subnet + " oifname != " + br + " masquerade\n";
  // Hairpin: a container reached its own project's published port; without
  // masquerade the answer would go container-to-container, bypassing the
  // un-DNAT, and the client would drop it.
  s += post + "oifname " + br + " ip saddr " + r.subnet + " ip daddr " + r.subnet +
       " ct status dnat masquerade\n";
  // Published port reached at 127.0.0.1 on the node: DNAT in output keeps the
  // loopback source, which may leave a real interface only with
  // route_localnet=1 on the bridge (firewall.cc sets it); masquerade then
  // gives it the gateway address the container can answer.
  s += post + "oifname " + br + " ip saddr 127.0.0.0/8 masquerade\n";

  // Forward into the bridge: only from the bridge itself, answers, or a
  // published port (DNAT). Traffic from other projects' bridges and routed
  // traffic from outside to container addresses is dropped.
  std::string fwd = ruleHead(r.project, "forward");
  s += fwd + "oifname != " + br + " return\n";
  s += fwd + "iifname " + br + " accept\n";
  s += fwd + "ct state established,related accept\n";
  s += fwd + "ct status dnat accept\n";
  s += fwd + "drop\n";

  // Input from the bridge: containers may reach the node only for DNS on the
  // gateway. Published ports are DNATed to containers in prerouting, so they
  // arrive in forward, not here.
  std::string in = ruleHead(r.project, "input");
  s += in + "iifname != " + br + " return\n";
  s += in + "ct state established,related accept\n";
  s += in + "ip daddr " + r.gateway + " udp dport 53 accept\n";
  s += in + "ip daddr " + r.gateway + " tcp dport 53 accept\n";
  s += in + "drop\n";
  return s;
}

std::string deleteChainsScript(std::string_view project) {
  std::string s;
  for (std::string_view hook : kHooks) {
    s += "delete chain inet " + std::string(kTable) + " " + chainName(project, hook) + "\n";
  }
  return s;
}

sys::Result<std::string> reconcileScript(const std::vector<ProjectRules>& desired,
                                         const std::vector<std::string>& existing) {
  std::set<std::string> names;
  for (const ProjectRules& r : desired) {
    BERTH_TRY(validate(r));
    if (!names.insert(r.project).second) {
      return sys::Error::invalid("project " + r.project + " is listed twice");
    }
  }
  std::string s = baseScript({names.begin(), names.end()});
  for (const std::string& p : std::set<std::string>(existing.begin(), existing.end())) {
    if (!names.contains(p)) s += deleteChainsScript(p);
  }
  for (const ProjectRules& r : desired) s += projectChainsScript(r);
  return s;
}

sys::Result<std::string> applyScript(const ProjectRules& rules,
                                     const std::vector<std::string>& existing) {
  BERTH_TRY(validate(rules));
  std::vector<std::string> projects = existing;
  projects.push_back(rules.project);
  return baseScript(projects) + projectChainsScript(rules);
}

sys::Result<std::string> removeScript(std::string_view project,
                                      const std::vector<std::string>& existing) {
  BERTH_TRY(validateProjectName(project));
  if (std::find(existing.begin(), existing.end(), project) == existing.end()) {
    return std::string();
  }
  std::vector<std::string> rest;
  for (const std::string& p : existing) {
    if (p != project) rest.push_back(p);
  }
  return baseScript(rest) + deleteChainsScript(project);
}

}  // namespace berth::net::nft
