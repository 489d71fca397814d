// The nftables rules of berth's project networks, as nft script text.
//
// Everything here is pure: a project is described by ProjectRules, and the
// functions below turn descriptions (plus the names of the projects already
// in the kernel) into one nft script that libnftables runs as a single
// atomic transaction (firewall.h does that). Keeping generation separate
// from the kernel lets the unit tests read the exact rules without root.
//
// Layout of `table inet berth`:
//   base chains  prerouting/output/postrouting (type nat) and forward/input
//                (type filter), hooked at the usual priorities. They hold
//                only one jump per project and are flushed and refilled by
//                every transaction, so they never collect duplicates.
//   per project  "proj-<name>-prerouting", "-output", "-postrouting",
//                "-forward", "-input": everything about that project, so
//                applying it flushes and refills exactly these chains, and
//                removing it deletes exactly these chains (and the jumps).
// Only IPv4 is handled (project subnets are IPv4); the rules match
// `meta nfproto ipv4` where a NAT statement needs an address family.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::net::nft {

inline constexpr std::string_view kTable = "berth";  // family inet
inline constexpr std::string_view kChainPrefix = "proj-";

enum class Proto { kTcp, kUdp };

struct PublishedPort {
  uint16_t hostPort = 0;
  std::string containerAddr;  // IPv4 dotted quad inside the project's subnet
  uint16_t containerPort = 0;
  Proto proto = Proto::kTcp;
};

struct ProjectRules {
  std::string project;  // [a-z0-9][a-z0-9_.-]*, at most 64 characters
  std::string bridge;   // interface name (< IFNAMSIZ)
  std::string subnet;   // IPv4 CIDR, e.g. "10.89.0.0/23" (host bits zero)
  std::string gateway;  // the bridge's address, e.g. "10.89.0.1"
  std::vector<PublishedPort> ports;
};

// The five hooks a project has a chain for, in the order they are generated.
inline constexpr std::string_view kHooks[] = {"prerouting", "output", "postrouting", "forward",
                                              "input"};

// Checks every field before it reaches nft syntax (names, addresses, ports,
// duplicates), so a bad description fails with a message naming the field
// and nothing is half-applied.
sys::Result<void> validate(const ProjectRules& rules);
sys::Result<void> validateProjectName(std::string_view project);

// "proj-<project>-<hook>".
std::string chainName(std::string_view project, std::string_view hook);

// The project a chain belongs to, or "" when `chain` is not a project chain.
std::string projectOfChain(std::string_view chain);
// The distinct projects among chain names (sorted), e.g. from a listing.
std::vector<std::string> projectsOfChains(const std::vector<std::string>& chains);

// Creates the table and base chains (idempotent), flushes the base chains
// and adds one jump per project in `projects` (sorted, deduplicated).
std::string baseScript(const std::vector<std::string>& projects);

// Creates (if needed), flushes and fills the project's five chains.
std::string projectChainsScript(const ProjectRules& rules);

// Deletes the project's five chains; only valid after baseScript() in the
// same transaction dropped the jumps to them.
std::string deleteChainsScript(std::string_view project);

// One transaction making the table hold exactly `desired`, given the
// projects whose chains exist now (`existing`): base chains rebuilt, chains
// of projects not desired deleted, desired projects refilled.
sys::Result<std::string> reconcileScript(const std::vector<ProjectRules>& desired,
                                         const std::vector<std::string>& existing);

// Adds or replaces one project, keeping the other existing ones.
sys::Result<std::string> applyScript(const ProjectRules& rules,
                                     const std::vector<std::string>& existing);

// Removes one project (its chains and jumps), keeping the others. Returns ""
// when the project does not exist (nothing to do).
sys::Result<std::string> removeScript(std::string_view project,
                                      const std::vector<std::string>& existing);

}  // namespace berth::net::nft
