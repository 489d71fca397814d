// Aligned text tables as docker prints them: upper-case headers, columns
// separated by at least three spaces, the last column unpadded.
#pragma once

#include <string>
#include <vector>

namespace berth::agent::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t size() const { return rows_.size(); }
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Width on a terminal, counting UTF-8 code points (close enough for "…").
size_t displayWidth(const std::string& text);

// `text` cut to `width` code points, the last one replaced by "…" when cut.
std::string truncateText(const std::string& text, size_t width);

}  // namespace berth::agent::cli
