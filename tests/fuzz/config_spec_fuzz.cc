// libFuzzer target for the config.json parser and validator: any byte string
// must produce a Spec or an error, never a crash, hang or sanitizer report.
// config.json comes from whoever wrote the bundle, so this is untrusted input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/config/parse.h"
#include "runtime/config/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = berth::runtime::config::parseSpec(text);
  if (spec.ok()) {
    auto valid = berth::runtime::config::validateSpec(*spec);
    (void)valid.ok();
  } else {
    (void)spec.error().what().size();
  }
  // The same bytes as the two smaller documents the CLI accepts.
  (void)berth::runtime::config::parseProcess(text).ok();
  (void)berth::runtime::config::parseResources(text).ok();
  return 0;
}
