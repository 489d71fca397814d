// The pure decisions of storage/disk: how a size is written, and the mkfs
// command line. No system calls here, so both are unit-tested without root.
#include <cctype>
#include <limits>

#include "storage/disk/disk.h"

namespace berth::storage::disk {
namespace {

// Binary multiplier of a unit letter, 0 when the letter is not a unit.
uint64_t unitShift(char c) {
  switch (std::tolower(static_cast<unsigned char>(c))) {
    case 'k':
      return 10;
    case 'm':
      return 20;
    case 'g':
      return 30;
    case 't':
      return 40;
    case 'p':
      return 50;
    default:
      return 0;
  }
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

sys::Result<uint64_t> parseSize(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return sys::Error(EINVAL, "invalid size \"" + std::string(text) + "\": " + std::string(why));
  };
  size_t i = 0;
  uint64_t number = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (number > (kMax - digit) / 10) return bad("too large");
    number = number * 10 + digit;
  }
  if (i == 0) return bad("expected a number of bytes, optionally with a unit (k, M, G, T, P)");
  std::string_view rest = text.substr(i);
  uint64_t shift = 0;
  if (!rest.empty() && (shift = unitShift(rest[0])) != 0) rest.remove_prefix(1);
  // "10G", "10GB", "10GiB" and "100B" all mean binary units, as docker's --disk does.
  bool suffixOk =
      rest.empty() || equalsIgnoreCase(rest, "b") || (shift != 0 && equalsIgnoreCase(rest, "ib"));
  if (!suffixOk) return bad("unknown unit \"" + std::string(rest) + "\" (use k, M, G, T or P)");
  if (shift != 0 && number > (kMax >> shift)) return bad("too large");
  return number << shift;
}

std::vector<std::string> mkfsArgv(const std::string& mkfsPath, const std::string& imagePath,
                                  uint64_t bytes) {
  std::vector<std::string> argv = {
      mkfsPath,
      "-q",
      "-F",
      "-t",
      "ext4",
      "-b",
      std::to_string(kBlockSize),
      "-m",
      "0",
      "-E",
      "nodiscard,lazy_itable_init=1,lazy_journal_init=1",
  };
  // mke2fs picks a 16 MiB journal up to 1 GiB and more above; cap it there
  // (see the header for the trade-off).
  constexpr uint64_t kJournalCapFrom = 1ull << 30;
  if (bytes >= kJournalCapFrom) {
    argv.push_back("-J");
    argv.push_back("size=16");
  }
  argv.push_back(imagePath);
  // The block count, so mke2fs never guesses from a file that might still be
  // growing; it is the image size in kBlockSize blocks.
  argv.push_back(std::to_string(bytes / kBlockSize));
  return argv;
}

}  // namespace berth::storage::disk
