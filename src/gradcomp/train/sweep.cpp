#include "gradcomp/train/sweep.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>

#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/core/csv.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"
#include "gradcomp/train/config.hpp"
#include "gradcomp/train/metrics.hpp"
#include "gradcomp/train/trainer.hpp"

namespace gradcomp {

namespace {

struct Axis {
  std::string key;
  std::vector<std::string> values;
};

// The values are split at commas outside double quotes, so a TOML string value may hold commas:
// --grid 'algorithm.schedule="step:lr=0.1,epochs=2","step:lr=0.2,epochs=2"'.
Axis parse_axis(const std::string& text) {
  const std::size_t eq = text.find('=');
  require(eq != std::string::npos && eq > 0 && eq + 1 < text.size(),
          "--grid '{}': expected section.key=v1,v2,..., e.g. --grid compressor.ratio=16,64", text);
  Axis axis{text.substr(0, eq), {""}};
  bool quoted = false;
  for (const char c : text.substr(eq + 1)) {
    if (c == ',' && !quoted) {
      axis.values.emplace_back();
      continue;
    }
    if (c == '"') quoted = !quoted;
    axis.values.back() += c;
  }
  require(!quoted, "--grid '{}': a double quote is not closed", text);
  return axis;
}

// Every combination of the axes' values, as lists of "key=value".
std::vector<std::vector<std::string>> combinations(const std::vector<Axis>& axes) {
  std::vector<std::vector<std::string>> all{{}};
  for (const Axis& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& partial : all) {
      for (const auto& value : axis.values) {
        auto extended = partial;
        extended.push_back(axis.key + "=" + value);
        next.push_back(extended);
      }
    }
    all = std::move(next);
  }
  return all;
}

struct Stat {
  double mean = NAN;
  double std = NAN;
};

Stat stat_of(const std::vector<double>& values) {
  std::vector<double> finite;
  for (const double v : values) {
    if (std::isfinite(v)) finite.push_back(v);
  }
  if (finite.empty()) return {};
  double mean = 0;
  for (const double v : finite) mean += v / static_cast<double>(finite.size());
  double var = 0;
  for (const double v : finite) var += (v - mean) * (v - mean);
  const double std =
      finite.size() > 1 ? std::sqrt(var / static_cast<double>(finite.size() - 1)) : 0;
  return {mean, std};
}

double field(const nlohmann::ordered_json& record, const char* key) {
  return record.contains(key) && record[key].is_number() ? record[key].get<double>() : NAN;
}

const std::vector<std::pair<const char*, const char*>>& columns() {
  static const std::vector<std::pair<const char*, const char*>> all = {
      {"test_accuracy", "test accuracy (%)"},
      {"test_loss", "test loss"},
      {"train_loss", "train loss"},
      {"bits_up", "MB sent / worker"},
      {"simulated_seconds", "simulated s"}};
  return all;
}

double scale_of(const std::string& key) {
  if (key == "test_accuracy") return 100;
  if (key == "bits_up") return 1.0 / 8e6;
  return 1;
}

}  // namespace

std::string run_sweep(const SweepPlan& plan) {
  require(plan.seeds >= 1, "--seeds must be at least 1");
  std::vector<Axis> axes;
  for (const auto& g : plan.grid) axes.push_back(parse_axis(g));
  // Every grid point is checked before the first runs: a typo in the last value must not cost
  // the runs before it.
  for (const auto& point : combinations(axes)) {
    std::vector<std::string> overrides = plan.overrides;
    overrides.insert(overrides.end(), point.begin(), point.end());
    validate_specs(parse_config(plan.config_text, plan.origin, overrides));
  }
  const std::string out = make_run_directory(plan.out.empty() ? "" : plan.out);
  std::string markdown = "| configuration | runs |";
  std::string csv = "configuration,runs";
  for (const auto& [key, label] : columns()) {
    markdown += fmt::format(" {} |", label);
    csv += fmt::format(",{}_mean,{}_std", key, key);
  }
  markdown += "\n|---|---|";
  for (std::size_t k = 0; k < columns().size(); ++k) markdown += "---|";
  markdown += "\n";
  std::size_t index = 0;
  for (const auto& point : combinations(axes)) {
    std::vector<nlohmann::ordered_json> finals;
    for (std::size_t seed = 1; seed <= plan.seeds; ++seed) {
      std::vector<std::string> overrides = plan.overrides;
      overrides.insert(overrides.end(), point.begin(), point.end());
      overrides.push_back(fmt::format("run.seed={}", seed));
      overrides.push_back(fmt::format("run.out=\"{}/run-{:03}-seed{}\"", out, index, seed));
      const TrainConfig config = parse_config(plan.config_text, plan.origin, overrides);
      LocalCommunicator local;
      finals.push_back(train(config, local).summary["final"]);
    }
    const std::string name = point.empty() ? "base" : fmt::format("{}", fmt::join(point, " "));
    markdown += fmt::format("| {} | {} |", name, finals.size());
    csv += fmt::format("\n{},{}", csv_field(name), finals.size());
    for (const auto& [key, label] : columns()) {
      std::vector<double> values;
      values.reserve(finals.size());
      for (const auto& f : finals) values.push_back(field(f, key) * scale_of(key));
      const Stat s = stat_of(values);
      markdown += std::isfinite(s.mean) ? fmt::format(" {:.4g} ± {:.2g} |", s.mean, s.std) : " — |";
      csv += fmt::format(",{},{}", s.mean, s.std);
    }
    markdown += "\n";
    ++index;
  }
  write_file_atomically(out + "/sweep.md", markdown);
  write_file_atomically(out + "/sweep.csv", csv + "\n");
  return markdown + fmt::format("\n(mean ± sample std over {} seeds; runs and tables in {})\n",
                                plan.seeds, out);
}

}  // namespace gradcomp
