#include "gradcomp/train/metrics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>

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
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto record = nlohmann::ordered_json::parse(line);
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

std::string make_run_directory(const std::string& requested) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!requested.empty()) {
    require(!fs::exists(requested) || (fs::is_directory(requested) && fs::is_empty(requested)),
            "output directory '{}' exists and is not empty; choose another --out (gradcomp never "
            "overwrites a run)",
            requested);
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
