// JSON form of the persisted attachments (see state.h).
#include "net/network/state.h"

#include <nlohmann/json.hpp>

namespace berth::net::network {
namespace {

using Json = nlohmann::json;

constexpr int kVersion = 1;

Json portJson(const PortMapping& port) {
  return Json{{"hostPort", port.hostPort},
              {"containerPort", port.containerPort},
              {"proto", port.proto == nft::Proto::kUdp ? "udp" : "tcp"}};
}

PortMapping portFromJson(const Json& j) {
  PortMapping port;
  port.hostPort = j.at("hostPort").get<uint16_t>();
  port.containerPort = j.at("containerPort").get<uint16_t>();
  std::string proto = j.at("proto").get<std::string>();
  if (proto != "tcp" && proto != "udp") throw std::invalid_argument("proto " + proto);
  port.proto = proto == "udp" ? nft::Proto::kUdp : nft::Proto::kTcp;
  return port;
}

}  // namespace

std::string formatAttachments(const AttachmentRecords& records) {
  Json all = Json::object();
  for (const auto& [id, record] : records) {
    Json ports = Json::array();
    for (const PortMapping& port : record.request.publish) ports.push_back(portJson(port));
    all[id] = Json{{"network", record.request.network},
                   {"hostname", record.request.hostname},
                   {"aliases", record.request.aliases},
                   {"publish", ports},
                   {"address", record.address},
                   {"netnsPath", record.netnsPath}};
  }
  return Json{{"version", kVersion}, {"attachments", all}}.dump(1) + "\n";
}

sys::Result<AttachmentRecords> parseAttachments(std::string_view text, const std::string& path) {
  // nlohmann reports malformed input by exceptions; they end here, as an
  // error naming the file, and never leave this function.
  try {
    Json doc = Json::parse(text);
    if (doc.at("version").get<int>() != kVersion) {
      return sys::Error::invalid("parse " + path + ": unsupported version");
    }
    AttachmentRecords records;
    for (const auto& [id, j] : doc.at("attachments").items()) {
      AttachmentRecord record;
      record.request.containerId = id;
      record.request.network = j.at("network").get<std::string>();
      record.request.hostname = j.at("hostname").get<std::string>();
      record.request.aliases = j.at("aliases").get<std::vector<std::string>>();
      for (const Json& port : j.at("publish")) record.request.publish.push_back(portFromJson(port));
      record.address = j.at("address").get<std::string>();
      record.netnsPath = j.at("netnsPath").get<std::string>();
      records.emplace(id, std::move(record));
    }
    return records;
  } catch (const std::exception& e) {
    return sys::Error::invalid("parse " + path + ": " + e.what());
  }
}

}  // namespace berth::net::network
