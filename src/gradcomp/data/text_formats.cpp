#include "gradcomp/data/text_formats.hpp"

#include <fmt/ranges.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string_view>
#include <variant>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/layout.hpp"
#include "gradcomp/core/npy.hpp"

namespace gradcomp {

namespace {

std::ifstream open_text(const std::string& path, const char* what) {
  require(std::filesystem::exists(path), "{} file '{}' does not exist", what, path);
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("cannot open {} file '{}'", what, path));
  return in;
}

bool parse_double(std::string_view text, double& value) {
  if (text.size() > 1 && text.front() == '+') text.remove_prefix(1);  // LIBSVM's "+1"
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Splits on runs of spaces/tabs.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// A LIBSVM feature index: a whole number from 1 up to the most features a model can have (its
// weights are one vector, and a message addresses at most Layout::kMaxElements elements).
std::size_t parse_feature_index(std::string_view text, const std::string& path, std::size_t line) {
  std::uint64_t index = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
  const bool whole = error != std::errc::invalid_argument && end == text.data() + text.size();
  const bool too_long = error == std::errc::result_out_of_range;  // index is left 0 then
  require(whole && (too_long || index >= 1),
          "{}:{}: feature index {} must be a whole number from 1 (LIBSVM indices are 1-based)",
          path, line, text);
  require(!too_long && index < Layout::kMaxElements,
          "{}:{}: feature index {} is beyond the {} features a model can have (its weights travel "
          "in messages of at most 2^32 − 1 elements); renumber the features",
          path, line, text, Layout::kMaxElements - 1);
  return index;
}

}  // namespace

void map_class_labels(Dataset& data, const std::vector<std::size_t>& lines) {
  std::map<double, std::size_t> classes;
  for (std::size_t i = 0; i < data.samples; ++i) {
    const double label = data.labels[i];
    require(label == std::floor(label),
            "{}:{}: label {} is not an integer class; for real targets "
            "use the regression label kind",
            data.name, lines[i], label);
    classes.emplace(label, 0);
  }
  std::size_t next = 0;
  for (auto& [label, index] : classes) index = next++;
  for (float& label : data.labels) label = static_cast<float>(classes.at(label));
  data.classes = classes.size();
}

Dataset read_libsvm(const std::string& path, std::size_t features, LabelKind kind) {
  std::ifstream in = open_text(path, "LIBSVM");
  Dataset d;
  d.name = path;
  d.sparse = true;
  d.row_offsets.push_back(0);
  std::vector<std::size_t> lines;
  std::size_t widest = 0;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const auto parts = fields(text);
    double label = 0;
    require(parse_double(parts[0], label), "{}:{}: the label '{}' is not a number", path, number,
            parts[0]);
    std::size_t previous = 0;
    for (std::size_t k = 1; k < parts.size(); ++k) {
      const std::size_t colon = parts[k].find(':');
      double value = 0;
      require(colon != std::string_view::npos && parse_double(parts[k].substr(colon + 1), value),
              "{}:{}: '{}' is not index:value", path, number, parts[k]);
      const std::size_t column = parse_feature_index(parts[k].substr(0, colon), path, number);
      require(column > previous, "{}:{}: feature index {} after {}: indices must increase", path,
              number, column, previous);
      require(features == 0 || column <= features,
              "{}:{}: feature index {} is beyond the {} features declared", path, number, column,
              features);
      previous = column;
      d.columns.push_back(static_cast<std::uint32_t>(column - 1));
      d.values.push_back(static_cast<float>(value));
    }
    widest = std::max(widest, previous);
    d.labels.push_back(static_cast<float>(label));
    d.row_offsets.push_back(d.values.size());
    lines.push_back(number);
  }
  require(!d.labels.empty(), "LIBSVM file '{}' has no samples", path);
  d.samples = d.labels.size();
  d.features = features == 0 ? widest : features;
  d.shape = {d.features};
  if (kind == LabelKind::kClassification) map_class_labels(d, lines);
  d.check();
  return d;
}

Dataset read_csv(const std::string& path, LabelKind kind) {
  std::ifstream in = open_text(path, "CSV");
  Dataset d;
  d.name = path;
  std::vector<std::size_t> lines;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const std::string_view text = trim(line);
    if (text.empty()) continue;
    std::vector<double> row;
    std::size_t start = 0;
    bool header = false;
    while (start <= text.size()) {
      const std::size_t comma = std::min(text.find(',', start), text.size());
      double value = 0;
      const std::string_view field = trim(text.substr(start, comma - start));
      if (!parse_double(field, value)) {
        header = number == 1 && row.empty() && lines.empty();
        require(header, "{}:{}: field {} '{}' is not a number", path, number, row.size() + 1,
                field);
        break;
      }
      row.push_back(value);
      start = comma + 1;
    }
    if (header) continue;
    require(row.size() >= 2, "{}:{}: a sample needs a label and at least one feature", path,
            number);
    if (d.features == 0) d.features = row.size() - 1;
    require(row.size() - 1 == d.features, "{}:{}: {} features, the first sample has {}", path,
            number, row.size() - 1, d.features);
    d.labels.push_back(static_cast<float>(row[0]));
    for (std::size_t k = 1; k < row.size(); ++k) d.dense.push_back(static_cast<float>(row[k]));
    lines.push_back(number);
  }
  require(!d.labels.empty(), "CSV file '{}' has no samples", path);
  d.samples = d.labels.size();
  d.shape = {d.features};
  if (kind == LabelKind::kClassification) map_class_labels(d, lines);
  d.check();
  return d;
}

Dataset read_npy_dataset(const std::string& features, const std::string& labels, LabelKind kind) {
  const NpyArray x = read_npy(features);
  const NpyArray y = read_npy(labels);
  require(x.shape.size() >= 2,
          "'{}' holds an array of shape ({}); features need samples x "
          "features",
          features, fmt::join(x.shape, ", "));
  require(y.shape.size() == 1 && y.shape[0] == x.shape[0],
          "'{}' holds {} values in shape ({}); it needs one label per sample of '{}' ({})", labels,
          y.size(), fmt::join(y.shape, ", "), features, x.shape[0]);
  Dataset d;
  d.name = features;
  d.samples = x.shape[0];
  d.features = x.size() / std::max<std::size_t>(1, d.samples);
  d.shape.assign(x.shape.begin() + 1, x.shape.end());
  std::visit([&](const auto& values) { d.dense.assign(values.begin(), values.end()); }, x.data);
  std::visit([&](const auto& values) { d.labels.assign(values.begin(), values.end()); }, y.data);
  std::vector<std::size_t> lines(d.samples);
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i] = i;  // "line" = sample index here
  if (kind == LabelKind::kClassification) map_class_labels(d, lines);
  d.check();
  return d;
}

}  // namespace gradcomp
