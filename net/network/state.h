// The attachments ProjectNetworks persists in <dataRoot>/networks/
// attachments.json: per container id its network, DNS names, published
// ports, address and pinned netns path, so a restarted berthd knows what to
// rebuild. Addresses and subnets themselves live in IpamStore's file.
// Parsing and formatting are pure (unit-tested); the file is replaced with
// sys::writeFileAtomic, so a crash leaves the old or the new state.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "net/network/types.h"
#include "runtime/sys/result.h"

namespace berth::net::network {

struct AttachmentRecord {
  AttachRequest request;
  std::string address;    // "10.89.0.2"
  std::string netnsPath;  // the bind mount pinning the container's netns
};

using AttachmentRecords = std::map<std::string, AttachmentRecord>;  // by container id

std::string formatAttachments(const AttachmentRecords& records);
// `path` only names the file in errors.
sys::Result<AttachmentRecords> parseAttachments(std::string_view text, const std::string& path);

}  // namespace berth::net::network
