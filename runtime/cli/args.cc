// Flag parsing; see args.h.
#include "runtime/cli/args.h"

namespace berth::runtime::cli {
namespace {

const FlagSpec* find(const std::vector<FlagSpec>& flags, const std::string& name) {
  for (const auto& f : flags) {
    if (name == f.name || (f.alias && name == f.alias)) return &f;
  }
  return nullptr;
}

bool isFalse(const std::string& v) { return v == "false" || v == "0" || v == "no"; }

}  // namespace

sys::Result<Args> Args::parse(const std::vector<std::string>& argv, size_t begin,
                              const std::vector<FlagSpec>& flags) {
  Args args;
  size_t i = begin;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;  // first positional: flags end here
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool inlineValue = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      inlineValue = true;
    }
    const FlagSpec* spec = find(flags, name);
    if (!spec) return sys::Error::invalid("flag provided but not defined: -" + name);
    if (spec->takesValue) {
      if (!inlineValue) {
        if (i + 1 >= argv.size()) return sys::Error::invalid("flag needs an argument: -" + name);
        value = argv[++i];
      }
    } else if (!inlineValue) {
      value = "true";
    }
    args.values_[spec->name].push_back(value);
  }
  for (; i < argv.size(); ++i) args.positionals_.push_back(argv[i]);
  return args;
}

std::string Args::value(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return fallback;
  return it->second.back();
}

const std::vector<std::string>& Args::values(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

bool Args::flag(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && !it->second.empty() && !isFalse(it->second.back());
}

std::string usageOf(const std::vector<FlagSpec>& flags) {
  std::string out;
  for (const auto& f : flags) {
    std::string left = std::string("   --") + f.name;
    if (f.alias) left += std::string(", -") + f.alias;
    if (f.takesValue) left += " value";
    if (left.size() < 32) left.resize(32, ' ');
    out += left + " " + f.help + "\n";
  }
  return out;
}

}  // namespace berth::runtime::cli
