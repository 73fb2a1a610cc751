#include "gradcomp/train/metrics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include "gradcomp/core/csv.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"

namespace gradcomp {

namespace {

std::string csv_cell(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "";
  if (value.is_number_float()) {
    const double v = value.get<double>();
    return std::isfinite(v) ? fmt::format("{}", v) : "";
  }
  if (value.is_string()) return csv_field(value.get<std::string>());
  return value.dump();
}

}  // namespace

MetricsLog::MetricsLog(std::string directory) : directory_(std::move(directory)) {}

void MetricsLog::resume_until(std::uint64_t step) {
  std::ifstream in(directory_ + "/metrics.jsonl");
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    nlohmann::ordered_json record;
    try {
      record = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::json::exception&) {
    }
    require(record.is_object() && record.contains("step") && record["step"].is_number_unsigned(),
            "'{}/metrics.jsonl':{} is not a metrics record (the file was changed after it was "
            "written); restore it, or delete the lines after the checkpoint's step {}",
            directory_, number, step);
    if (record["step"].get<std::uint64_t>() <= step) records_.push_back(std::move(record));
  }
}

void MetricsLog::append(const nlohmann::ordered_json& record) {
  records_.push_back(record);
  std::string jsonl;
  for (const auto& r : records_) jsonl += r.dump() + "\n";
  write_file_atomically(directory_ + "/metrics.jsonl", jsonl);
  std::string csv;
  std::vector<std::string> columns;
  for (const auto& [key, _] : records_.front().items()) columns.push_back(key);
  csv += fmt::format("{}\n", fmt::join(columns, ","));
  for (const auto& r : records_) {
    std::vector<std::string> cells;
    cells.reserve(columns.size());
    for (const auto& key : columns) cells.push_back(r.contains(key) ? csv_cell(r[key]) : "");
    csv += fmt::format("{}\n", fmt::join(cells, ","));
  }
  write_file_atomically(directory_ + "/metrics.csv", csv);
}

void MetricsLog::write_summary(const nlohmann::ordered_json& summary) const {
  write_file_atomically(directory_ + "/summary.json", summary.dump(2) + "\n");
}

namespace {

// A temporary of write_file_atomically: "NAME.tmp.PID".
bool is_temporary(const std::string& name) {
  const std::size_t at = name.rfind(".tmp.");
  return at != std::string::npos && at + 5 < name.size() &&
         name.find_first_not_of("0123456789", at + 5) == std::string::npos;
}

// What a run leaves when it fails before its first record and its first checkpoint: its
// config.toml, an empty checkpoint/ folder, temporaries. Such a directory holds no result, so
// --out may reuse it. nullopt when it holds anything else (a result, a file of the user's).
std::optional<std::vector<std::filesystem::path>> leftovers_of_a_failed_start(
    const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) return std::nullopt;
  const fs::path base = (dir / "").parent_path();  // "run/" and "run" alike
  std::vector<fs::path> found;
  for (const auto& entry : fs::recursive_directory_iterator(base)) {
    const std::string name = entry.path().filename().string();
    const bool top = entry.path().parent_path() == base;
    const bool ours =
        entry.is_directory()
            ? top && name == "checkpoint"
            : entry.is_regular_file() && ((top && name == "config.toml") || is_temporary(name));
    if (!ours) return std::nullopt;
    found.push_back(entry.path());
  }
  return found;
}

}  // namespace

std::string make_run_directory(const std::string& requested) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!requested.empty()) {
    const auto leftovers = leftovers_of_a_failed_start(requested);
    require(!fs::exists(requested) || leftovers.has_value(),
            "output directory '{}' exists and holds results or files of its own; choose another "
            "--out (gradcomp never overwrites a run; it reuses only a directory that is empty or "
            "holds what a run that failed before its first result left)",
            requested);
    // Deepest first: the checkpoint folder after its temporaries.
    if (leftovers)
      for (auto it = leftovers->rbegin(); it != leftovers->rend(); ++it) fs::remove(*it, error);
    fs::create_directories(requested, error);
    if (error) throw IoError(fmt::format("cannot create '{}': {}", requested, error.message()));
    return requested;
  }
  for (int n = 1; n < 100000; ++n) {
    std::string candidate = fmt::format("runs/run-{:03}", n);
    if (fs::exists(candidate)) continue;
    fs::create_directories(candidate, error);
    if (error) throw IoError(fmt::format("cannot create '{}': {}", candidate, error.message()));
    return candidate;
  }
  throw IoError("runs/ holds 99999 runs; choose --out");
}

double seconds_on(const nlohmann::json& record, const NetworkModel& network) {
  const auto number = [&](const char* key) {
    return record.contains(key) && record[key].is_number() ? record[key].get<double>() : NAN;
  };
  return number("compute_seconds") +
         network.seconds({number("network_messages"), number("network_critical_bits")});
}

}  // namespace gradcomp
