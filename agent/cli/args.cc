// The docker-style flag parser of the berth CLI.
#include "agent/cli/args.h"

#include <algorithm>
#include <optional>

namespace berth::agent::cli {

std::string ParsedArgs::value(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::values(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

bool ParsedArgs::flag(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && !it->second.empty() && it->second.back() == "true";
}

class ArgParser {
 public:
  ArgParser(const std::vector<FlagSpec>& specs, ParseOptions options)
      : specs_(specs), options_(options) {
    shortHelp_ = std::none_of(specs.begin(), specs.end(),
                              [](const FlagSpec& s) { return s.shortName == 'h'; });
  }

  sys::Result<ParsedArgs> parse(const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (flagsDone_ || arg.size() < 2 || arg[0] != '-') {
        out_.positionals_.push_back(arg);
        if (options_.stopAtFirstPositional) flagsDone_ = true;
        continue;
      }
      if (arg == "--") {
        flagsDone_ = true;
        continue;
      }
      auto parsed = arg[1] == '-' ? parseLong(args, i) : parseShorts(args, i);
      if (!parsed) return std::move(parsed).error();
    }
    return std::move(out_);
  }

 private:
  const FlagSpec* byName(const std::string& name) const {
    for (const auto& s : specs_) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  const FlagSpec* byShort(char c) const {
    for (const auto& s : specs_) {
      if (s.shortName == c) return &s;
    }
    return nullptr;
  }

  sys::Result<void> setBool(const FlagSpec& spec, const std::string& text, const std::string& arg) {
    if (text != "true" && text != "false") {
      return sys::Error::invalid("invalid value \"" + text + "\" for " + arg +
                                 ": expected true or false");
    }
    out_.values_[spec.name].push_back(text);
    return sys::ok();
  }

  sys::Result<void> parseLong(const std::vector<std::string>& args, size_t& i) {
    std::string body = args[i].substr(2);
    std::optional<std::string> inlineValue;
    if (auto eq = body.find('='); eq != std::string::npos) {
      inlineValue = body.substr(eq + 1);
      body.resize(eq);
    }
    if (body == "help") {
      out_.help_ = true;
      return sys::ok();
    }
    const FlagSpec* spec = byName(body);
    if (spec == nullptr) return sys::Error::invalid("unknown flag: --" + body);
    if (!spec->takesValue) return setBool(*spec, inlineValue.value_or("true"), "--" + body);
    if (inlineValue) {
      out_.values_[spec->name].push_back(*inlineValue);
      return sys::ok();
    }
    if (i + 1 >= args.size()) return sys::Error::invalid("flag needs an argument: --" + body);
    out_.values_[spec->name].push_back(args[++i]);
    return sys::ok();
  }

  // "-it", "-eFOO=1", "-e FOO=1", "-t5".
  sys::Result<void> parseShorts(const std::vector<std::string>& args, size_t& i) {
    const std::string& arg = args[i];
    for (size_t k = 1; k < arg.size(); ++k) {
      char c = arg[k];
      const FlagSpec* spec = byShort(c);
      if (spec == nullptr) {
        if (c == 'h' && shortHelp_) {
          out_.help_ = true;
          continue;
        }
        return sys::Error::invalid(std::string("unknown shorthand flag: '") + c + "' in " + arg);
      }
      if (!spec->takesValue) {
        out_.values_[spec->name].push_back("true");
        continue;
      }
      std::string rest = arg.substr(k + 1);
      if (!rest.empty() && rest[0] == '=') rest.erase(0, 1);
      if (rest.empty()) {
        if (k + 1 < arg.size() || i + 1 >= args.size()) {
          return sys::Error::invalid(std::string("flag needs an argument: '") + c + "' in " + arg);
        }
        rest = args[++i];
      }
      out_.values_[spec->name].push_back(rest);
      return sys::ok();
    }
    return sys::ok();
  }

  const std::vector<FlagSpec>& specs_;
  ParseOptions options_;
  ParsedArgs out_;
  bool flagsDone_ = false;
  bool shortHelp_ = true;
};

sys::Result<ParsedArgs> parseArgs(const std::vector<std::string>& args,
                                  const std::vector<FlagSpec>& specs, ParseOptions options) {
  return ArgParser(specs, options).parse(args);
}

std::string flagsHelp(const std::vector<FlagSpec>& specs) {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const auto& s : specs) {
    std::string left = s.shortName ? std::string("  -") + s.shortName + ", " : "      ";
    left += "--" + s.name;
    if (s.takesValue) left += " " + (s.valueName.empty() ? std::string("string") : s.valueName);
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), s.help);
  }
  rows.emplace_back("      --help", "Print usage");
  width = std::max(width, rows.back().first.size());
  std::string out = "Options:\n";
  for (auto& [left, help] : rows) {
    out += left + std::string(width - left.size() + 3, ' ') + help + "\n";
  }
  return out;
}

}  // namespace berth::agent::cli
