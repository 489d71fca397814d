// The block I/O controller: proportional weights and per-device throttles.
//
// cgroup v1 calls it blkio (blkio.weight under CFQ, blkio.bfq.weight under
// BFQ); cgroup v2 calls it io (io.bfq.weight takes the same 10..1000 scale,
// io.weight a converted 1..10000 one) and puts all throttles in io.max.
#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::blkio {
namespace {

using Miss = Knob::IfMissing;

std::string device(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

void throttlesV1(const std::vector<config::ThrottleDevice>& devices, const char* file,
                 KnobList& out) {
  // One device per write: the kernel parses a single "MAJ:MIN RATE" line.
  for (const auto& d : devices) {
    out.push_back(Knob{file, device(d.major, d.minor) + " " + std::to_string(d.rate)});
  }
}

void throttlesV2(const std::vector<config::ThrottleDevice>& devices, const char* key,
                 KnobList& out) {
  for (const auto& d : devices) {
    // A rate of 0 lifts the limit, as writing 0 does on cgroup v1.
    std::string rate = d.rate == 0 ? "max" : std::to_string(d.rate);
    out.push_back(Knob{"io.max", device(d.major, d.minor) + " " + key + "=" + rate});
  }
}

}  // namespace

sys::Result<void> planV1(const config::Resources& r, const Current&, KnobList& out) {
  if (!r.blockIO) return sys::ok();
  const auto& b = *r.blockIO;
  if (b.weight && *b.weight != 0) {
    auto w = std::to_string(*b.weight);
    out.push_back(Knob{"blkio.weight", w, Miss::kFallback, "blkio.bfq.weight", w});
  }
  if (b.leafWeight && *b.leafWeight != 0) {
    out.push_back(Knob{"blkio.leaf_weight", std::to_string(*b.leafWeight)});
  }
  for (const auto& d : b.weightDevice) {
    if (d.weight) {
      auto line = device(d.major, d.minor) + " " + std::to_string(*d.weight);
      out.push_back(
          Knob{"blkio.weight_device", line, Miss::kFallback, "blkio.bfq.weight_device", line});
    }
    if (d.leafWeight) {
      out.push_back(Knob{"blkio.leaf_weight_device",
                         device(d.major, d.minor) + " " + std::to_string(*d.leafWeight)});
    }
  }
  throttlesV1(b.throttleReadBpsDevice, "blkio.throttle.read_bps_device", out);
  throttlesV1(b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", out);
  throttlesV1(b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", out);
  throttlesV1(b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", out);
  return sys::ok();
}

sys::Result<void> planV2(const config::Resources& r, const Current&, KnobList& out) {
  if (!r.blockIO) return sys::ok();
  const auto& b = *r.blockIO;
  if (b.weight && *b.weight != 0) {
    out.push_back(Knob{"io.bfq.weight", std::to_string(*b.weight), Miss::kFallback, "io.weight",
                       std::to_string(blkioWeightToIoWeight(*b.weight))});
  }
  // Only BFQ has per-device weights; without it runc drops them silently.
  for (const auto& d : b.weightDevice) {
    if (d.weight) {
      out.push_back(Knob{"io.bfq.weight",
                         device(d.major, d.minor) + " " + std::to_string(*d.weight), Miss::kSkip});
    }
  }
  throttlesV2(b.throttleReadBpsDevice, "rbps", out);
  throttlesV2(b.throttleWriteBpsDevice, "wbps", out);
  throttlesV2(b.throttleReadIOPSDevice, "riops", out);
  throttlesV2(b.throttleWriteIOPSDevice, "wiops", out);
  return sys::ok();
}

}  // namespace berth::runtime::cgroup::blkio
