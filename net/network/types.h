// The values ProjectNetworks takes and returns (network.h), apart so the
// persisted state (state.h) can name them without the service.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "net/ipam/subnet_pool.h"
#include "net/nft/rules.h"

namespace berth::net::network {

struct NetworkOptions {
  std::string dataRoot;  // state under <dataRoot>/networks/
  std::string runRoot;   // pinned namespaces under <runRoot>/netns/
  std::string pool = ipam::kDefaultPool;
  int prefix = ipam::kDefaultPrefixLength;
  std::string resolvConfPath = "/etc/resolv.conf";  // upstream resolvers for forwarding
};

struct NetworkInfo {
  std::string name;
  std::string bridge;   // "berth-1a2b3c4d"
  std::string subnet;   // "10.89.0.0/23"
  std::string gateway;  // "10.89.0.1"
  int prefix = 0;
  std::vector<std::string> containers;  // attached container ids, sorted
};

struct PortMapping {
  uint16_t hostPort = 0;
  uint16_t containerPort = 0;
  nft::Proto proto = nft::Proto::kTcp;
};

struct AttachRequest {
  std::string network;
  std::string containerId;
  std::string hostname;              // first DNS name; may be empty
  std::vector<std::string> aliases;  // further DNS names (e.g. the container name)
  std::vector<PortMapping> publish;
  // Prefix length of the network's subnet when this attach creates it (a
  // container's private network: 30); 0 = the pool's (NetworkOptions).
  int prefix = 0;
};

struct Attachment {
  std::string netnsPath;  // <runRoot>/netns/<containerId>: the OCI network namespace path
  std::string address;    // "10.89.0.2"
  std::string gateway;    // "10.89.0.1"
  int prefix = 0;
  std::string hosts;       // /etc/hosts text
  std::string resolvConf;  // /etc/resolv.conf text (nameserver = gateway)
  std::string hostname;    // /etc/hostname text
};

}  // namespace berth::net::network
