#pragma once
// The run's outputs (docs/outputs.md): every evaluation appends one record, and metrics.jsonl,
// metrics.csv and summary.json are rewritten atomically (temporary file, then rename), so a reader
// or a crash never sees half a file.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gradcomp/exchange/network_model.hpp"

namespace gradcomp {

class MetricsLog {
 public:
  explicit MetricsLog(std::string directory);
  // Continues a run: keeps the records of metrics.jsonl up to `step` (those after it were made
  // after the checkpoint and will be made again).
  void resume_until(std::uint64_t step);
  void append(const nlohmann::ordered_json& record);
  void write_summary(const nlohmann::ordered_json& summary) const;
  [[nodiscard]] const std::vector<nlohmann::ordered_json>& records() const { return records_; }

 private:
  std::string directory_;
  std::vector<nlohmann::ordered_json> records_;
};

// A record's simulated clock on another α–β network: its compute_seconds plus the network's time
// for the run's traffic totals (network_messages, network_critical_bits; docs/outputs.md). NaN
// when the record lacks them (runs made before they existed).
double seconds_on(const nlohmann::json& record, const NetworkModel& network);

// A new run directory: `requested`, which must not exist or be empty, or the next free
// runs/run-NNN. Nothing the user made is overwritten.
std::string make_run_directory(const std::string& requested);

}  // namespace gradcomp
