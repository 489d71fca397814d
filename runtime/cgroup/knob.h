// A knob is one write to one cgroup file. Controllers turn the config into an
// ordered list of knobs (pure logic, unit-tested without root); the managers
// then perform the writes. Hosts differ in which files exist, so a knob also
// says what to do when its file is missing.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::runtime::cgroup {

struct Knob {
  enum class IfMissing {
    kFail,      // the config asked for it and the host cannot do it: an error naming the file
    kSkip,      // harmless to drop (e.g. "max" for a limit the kernel does not account)
    kFallback,  // write fallbackValue to fallbackFile instead
  };

  std::string file;   // "memory.max"; the controller is the part before the first '.'
  std::string value;  // written with a single write(), as the kernel requires
  IfMissing ifMissing = IfMissing::kFail;
  std::string fallbackFile;
  std::string fallbackValue;
  // Retry once after the other knobs when the kernel answers EINVAL: some
  // pairs (cpu period/quota) are only valid in a state the other one reaches.
  bool retryOnEinval = false;

  bool operator==(const Knob&) const = default;
};

using KnobList = std::vector<Knob>;

// "memory.max" -> "memory", "cgroup.freeze" -> "cgroup".
std::string_view knobController(std::string_view file);

// Where a controller's files live; an error when no hierarchy has it.
using DirFor = std::function<sys::Result<std::string>(std::string_view controller)>;

// Performs the writes in order.
sys::Result<void> writeKnobs(const KnobList& knobs, const DirFor& dirFor);

}  // namespace berth::runtime::cgroup
