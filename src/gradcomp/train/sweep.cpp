#include "gradcomp/train/sweep.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
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

// A column of the tables: the final record's key, its Markdown heading and the factor the
// Markdown shows it with (sweep.csv keeps metrics.csv's units: fractions and bits).
struct Column {
  const char* key;
  const char* heading;
  double markdown_scale;
};

// Every field of a record a sweep can tabulate (docs/outputs.md); the first six are the default.
const std::vector<Column>& columns() {
  static const std::vector<Column> all = {
      {"test_accuracy", "test accuracy (%)", 100},
      {"test_loss", "test loss", 1},
      {"train_loss", "train loss", 1},
      {"suboptimality", "f − f*", 1},
      {"bits_up", "MB sent / worker", 1.0 / 8e6},
      {"simulated_seconds", "simulated s", 1},
      {"train_accuracy", "train accuracy (%)", 100},
      {"grad_norm2", "‖∇f‖²", 1},
      {"error_norm2", "mean ‖e‖²", 1},
      {"error_of_mean_norm2", "‖ē‖²", 1},
      {"def_distance", "DEF distance", 1},
      {"kappa_star", "κ*", 1},
      {"server_error_norm2", "server ‖e‖²", 1},
      {"density", "density", 1},
      {"total_error", "total error", 1},
      {"bits_down", "MB received / worker", 1.0 / 8e6},
      {"message_bits", "MB of messages / worker", 1.0 / 8e6},
      {"dense_bits", "MB dense / worker", 1.0 / 8e6},
      {"compute_seconds", "compute s", 1},
      {"step_seconds", "step s", 1},
      {"network_seconds", "network s", 1},
      {"grad_phi", "φ(g)", 1},
      {"grad_sign_delta", "‖g‖₁²/(d‖g‖²)", 1},
      {"lr", "lr", 1},
  };
  return all;
}
constexpr std::size_t kDefaultColumns = 6;

// One grid point's runs: its "key=value" assignments and every seed's final record.
struct PointResults {
  std::vector<std::string> point;
  std::vector<nlohmann::ordered_json> finals;
};

Stat column_stat(const PointResults& results, const char* key) {
  std::vector<double> values;
  values.reserve(results.finals.size());
  for (const auto& f : results.finals) values.push_back(field(f, key));
  return stat_of(values);
}

// The columns of `--columns`, in its order; InvalidInput naming the valid fields otherwise.
std::vector<Column> chosen_columns(const std::vector<std::string>& names) {
  std::vector<Column> chosen;
  for (const std::string& name : names) {
    const auto found = std::find_if(columns().begin(), columns().end(),
                                    [&](const Column& column) { return name == column.key; });
    if (found == columns().end()) {
      std::vector<std::string> valid;
      for (const Column& column : columns()) valid.emplace_back(column.key);
      throw InvalidInput(
          fmt::format("--columns '{}' is not a field of a run's record; choose from {}", name,
                      fmt::join(valid, ", ")));
    }
    chosen.push_back(*found);
  }
  return chosen;
}

// The default columns some grid point has a value for (no f − f* for a neural network, no
// accuracy for a regression).
std::vector<Column> present_columns(const std::vector<PointResults>& all) {
  std::vector<Column> present;
  for (std::size_t c = 0; c < kDefaultColumns; ++c) {
    const Column& column = columns()[c];
    const bool any = std::any_of(all.begin(), all.end(), [&](const PointResults& r) {
      return std::isfinite(column_stat(r, column.key).mean);
    });
    if (any) present.push_back(column);
  }
  return present;
}

// The value of "key=value" as a CSV cell: a TOML string's quotes dropped.
std::string value_of(const std::string& assignment) {
  std::string value = assignment.substr(assignment.find('=') + 1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  return value;
}

// A run folder's name for its grid point: letters, digits and . = - kept, quotes dropped, the
// rest '_'.
std::string folder_label(const std::vector<std::string>& point) {
  std::string label;
  for (const auto& assignment : point) {
    if (!label.empty()) label += '_';
    label += assignment;
  }
  std::string kept;
  for (const char c : label) {
    if (c == '"') continue;
    const bool plain =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '=' || c == '-';
    kept.push_back(plain ? c : '_');
  }
  return kept.substr(0, 80);
}

std::string markdown_table(const std::vector<PointResults>& all, const std::vector<Column>& shown,
                           std::size_t seeds) {
  std::string text = "| configuration | runs |";
  for (const Column& column : shown) text += fmt::format(" {} |", column.heading);
  text += "\n|---|---|";
  for (std::size_t k = 0; k < shown.size(); ++k) text += "---|";
  text += "\n";
  for (const PointResults& r : all) {
    const std::string name = r.point.empty() ? "base" : fmt::format("{}", fmt::join(r.point, " "));
    text += fmt::format("| {} | {} |", name, r.finals.size());
    for (const Column& column : shown) {
      const Stat s = column_stat(r, column.key);
      const double mean = s.mean * column.markdown_scale;
      if (!std::isfinite(mean)) {
        text += " — |";
      } else if (seeds == 1) {
        text += fmt::format(" {:.4g} |", mean);
      } else {
        text += fmt::format(" {:.4g} ± {:.2g} |", mean, s.std * column.markdown_scale);
      }
    }
    text += "\n";
  }
  return text;
}

std::string csv_table(const std::vector<PointResults>& all, const std::vector<Column>& shown,
                      const std::vector<Axis>& axes) {
  std::vector<std::string> header;
  for (const Axis& axis : axes) header.push_back(csv_field(axis.key));
  header.emplace_back("runs");
  for (const Column& column : shown) {
    header.push_back(fmt::format("{}_mean", column.key));
    header.push_back(fmt::format("{}_std", column.key));
  }
  std::string text = fmt::format("{}\n", fmt::join(header, ","));
  for (const PointResults& r : all) {
    std::vector<std::string> cells;
    for (const auto& assignment : r.point) cells.push_back(csv_field(value_of(assignment)));
    cells.push_back(std::to_string(r.finals.size()));
    for (const Column& column : shown) {
      const Stat s = column_stat(r, column.key);
      cells.push_back(std::isfinite(s.mean) ? fmt::format("{}", s.mean) : "");
      cells.push_back(std::isfinite(s.std) ? fmt::format("{}", s.std) : "");
    }
    text += fmt::format("{}\n", fmt::join(cells, ","));
  }
  return text;
}

}  // namespace

std::string run_sweep(const SweepPlan& plan) {
  require(plan.seeds >= 1, "--seeds must be at least 1");
  const std::vector<Column> chosen = chosen_columns(plan.columns);
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
  std::vector<PointResults> all;
  std::size_t index = 0;
  for (const auto& point : combinations(axes)) {
    PointResults results{point, {}};
    const std::string label = point.empty() ? "" : fmt::format("-{}", folder_label(point));
    for (std::size_t seed = 1; seed <= plan.seeds; ++seed) {
      std::vector<std::string> overrides = plan.overrides;
      overrides.insert(overrides.end(), point.begin(), point.end());
      overrides.push_back(fmt::format("run.seed={}", seed));
      overrides.push_back(
          fmt::format("run.out=\"{}/run-{:03}{}-seed{}\"", out, index, label, seed));
      const TrainConfig config = parse_config(plan.config_text, plan.origin, overrides);
      LocalCommunicator local;
      results.finals.push_back(train(config, local).summary["final"]);
    }
    all.push_back(std::move(results));
    ++index;
  }
  const std::vector<Column> shown = chosen.empty() ? present_columns(all) : chosen;
  const std::string markdown = markdown_table(all, shown, plan.seeds);
  write_file_atomically(out + "/sweep.md", markdown);
  write_file_atomically(out + "/sweep.csv", csv_table(all, shown, axes));
  return markdown +
         (plan.seeds == 1
              ? fmt::format("\n(one seed; runs and tables in {})\n", out)
              : fmt::format("\n(mean ± sample std over {} seeds; runs and tables in {})\n",
                            plan.seeds, out));
}

}  // namespace gradcomp
