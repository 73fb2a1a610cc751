#include "gradcomp/train/plot.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"
#include "gradcomp/exchange/network_model.hpp"
#include "gradcomp/train/metrics.hpp"

namespace gradcomp {

namespace {

struct Axis {
  std::vector<std::string> keys;  // the first key a record has wins
  std::string label;
  double scale = 1;
  bool log = false;
};

// "time:SPEC": the run's clock on another network, compute_seconds + the model's time for the
// run's traffic totals (docs/outputs.md); nothing for the other x axes.
std::optional<NetworkModel> clock_of(const std::string& x) {
  if (x.rfind("time:", 0) != 0) return std::nullopt;
  return NetworkModel::parse(x.substr(5));
}

Axis x_axis(const std::string& name) {
  if (name == "epoch") return {{"epoch"}, "epoch", 1, false};
  if (name == "bits") return {{"bits_up"}, "MB sent per worker", 1.0 / 8e6, false};
  if (name == "time") return {{"simulated_seconds"}, "simulated wall-clock (s)", 1, false};
  if (const auto network = clock_of(name)) {
    return {{"compute_seconds"},
            fmt::format("simulated wall-clock on {} (s)", network->name),
            1,
            false};
  }
  throw InvalidInput(
      fmt::format("--x '{}'; choose epoch, bits, time or time:NETWORK (e.g. time:10Gbit)", name));
}

Axis y_axis(const std::string& name) {
  if (name == "accuracy") return {{"test_accuracy", "train_accuracy"}, "accuracy (%)", 100, false};
  if (name == "loss") return {{"test_loss", "train_loss"}, "loss", 1, true};
  if (name == "suboptimality") return {{"suboptimality"}, "f(x) - f*", 1, true};
  if (name == "error") return {{"error_norm2"}, "mean squared error norm", 1, true};
  if (name == "geometry")
    return {{"grad_phi"}, "fraction of ||g||^2 a sign compressor keeps", 1, true};
  throw InvalidInput(
      fmt::format("--y '{}'; choose accuracy, loss, suboptimality, error or geometry", name));
}

// The curves of one run on the y axis: one, except "geometry" ([BlockEF] Fig. 1b), which draws the
// blockwise φ(g) and the whole-model ‖g‖₁²/(d‖g‖²) of the same gradients.
std::vector<std::pair<Axis, std::string>> y_series(const std::string& name) {
  const Axis y = y_axis(name);
  if (name != "geometry") return {{y, ""}};
  Axis whole = y;
  whole.keys = {"grad_sign_delta"};
  return {{y, ": phi(g), sign per layer"}, {whole, ": |g|_1^2/(d|g|^2), sign of the whole model"}};
}

// The key of `axis` a record has (the first of its keys), or nullptr.
const std::string* key_in(const nlohmann::json& record, const Axis& axis) {
  for (const auto& key : axis.keys) {
    if (record.contains(key) && record[key].is_number()) return &key;
  }
  return nullptr;
}

double value_of(const nlohmann::json& record, const Axis& axis,
                const std::optional<NetworkModel>& clock = std::nullopt) {
  if (clock) return seconds_on(record, *clock);
  const std::string* key = key_in(record, axis);
  return key != nullptr ? record[*key].get<double>() * axis.scale : NAN;
}

// "test loss", "train accuracy (%)", or both joined when runs differ: which set the y values
// come from (a run without a test set falls back to its training set).
std::string y_label(const Axis& y, const std::set<std::string>& keys_used) {
  if (y.keys.size() < 2) return y.label;
  std::vector<std::string> sets;
  for (const auto& key : y.keys) {
    if (keys_used.contains(key)) sets.push_back(key.substr(0, key.find('_')));
  }
  return fmt::format("{} {}", fmt::join(sets, " / "), y.label);
}

std::string label_of(const std::string& run) {
  std::ifstream in(run + "/summary.json");
  if (!in) return run;
  const auto summary = nlohmann::json::parse(in, nullptr, false);
  if (summary.is_discarded() || !summary.contains("algorithm")) return run;
  const std::string algorithm = summary["algorithm"].get<std::string>();
  return fmt::format("{} / {}", algorithm.substr(0, algorithm.find(':')),
                     summary["compressor"].get<std::string>());
}

// A gnuplot single-quoted string holds a quote as two quotes.
std::string quoted_for_gnuplot(const std::string& text) {
  std::string out;
  for (const char c : text) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out;
}

}  // namespace

void validate_axes(const std::string& x, const std::string& y) {
  x_axis(x);
  y_axis(y);
}

std::string plot_runs(const PlotRequest& request) {
  require(!request.runs.empty(), "plot needs at least one run directory");
  const Axis x = x_axis(request.x);
  const auto clock = clock_of(request.x);
  const Axis y = y_axis(request.y);
  require(request.labels.size() <= request.runs.size(),
          "{} --label for {} runs; give at most one per run, in the runs' order",
          request.labels.size(), request.runs.size());
  std::string prefix = request.out.empty() ? fmt::format("{}/plot-{}-vs-{}", request.runs.front(),
                                                         request.y, request.x)
                                           : request.out;
  const std::filesystem::path directory = std::filesystem::path(prefix).parent_path();
  if (!directory.empty()) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error)
      throw IoError(
          fmt::format("cannot create '{}' for --out: {}", directory.string(), error.message()));
  }
  std::set<std::string> keys_used;
  std::string plots;
  std::size_t points = 0;
  const auto series = y_series(request.y);
  for (std::size_t r = 0; r < request.runs.size(); ++r) {
    const std::string& run = request.runs[r];
    std::ifstream in(run + "/metrics.jsonl");
    require(in.good(), "'{}' has no metrics.jsonl; is it a gradcomp run directory?", run);
    std::vector<nlohmann::json> records;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) records.push_back(nlohmann::json::parse(line));
    }
    const std::string label = r < request.labels.size() ? request.labels[r] : label_of(run);
    for (std::size_t c = 0; c < series.size(); ++c) {
      const Axis& curve = series[c].first;
      std::string data;
      for (const auto& record : records) {
        const double a = value_of(record, x, clock);
        const double b = value_of(record, curve);
        const bool log_y = curve.log || request.log_y;
        if (std::isfinite(a) && std::isfinite(b) && (!log_y || b > 0) &&
            (!request.log_x || a > 0)) {
          data += fmt::format("{} {}\n", a, b);
          keys_used.insert(*key_in(record, curve));
          ++points;
        }
      }
      const std::string file = series.size() == 1 ? fmt::format("{}.run{}.dat", prefix, r)
                                                  : fmt::format("{}.run{}.{}.dat", prefix, r, c);
      write_file_atomically(file, data);
      plots +=
          fmt::format("{}'{}' using 1:2 with linespoints title '{}{}'", plots.empty() ? "" : ", ",
                      file, quoted_for_gnuplot(label), series[c].second);
    }
  }
  require(points > 0, "no run has '{}' against '{}' to plot", y.keys.front(), x.keys.front());
  std::string script;
  for (const auto& [terminal, extension] : std::vector<std::pair<std::string, std::string>>{
           {"pngcairo size 900,600", "png"}, {"svg size 900,600", "svg"}}) {
    script += fmt::format("set terminal {}\nset output '{}.{}'\n", terminal, prefix, extension);
    script += fmt::format("set xlabel '{}'\nset ylabel '{}'\nset key outside below\nset grid\n",
                          x.label, y_label(y, keys_used));
    script += y.log || request.log_y ? "set logscale y\n" : "unset logscale y\n";
    script += request.log_x ? "set logscale x\n" : "unset logscale x\n";
    if (!request.title.empty())
      script += fmt::format("set title '{}' noenhanced\n", quoted_for_gnuplot(request.title));
    script += fmt::format("plot {}\n", plots);
  }
  write_file_atomically(prefix + ".gp", script);
  const int status = std::system(fmt::format("gnuplot '{}.gp' 2>'{}.log'", prefix, prefix).c_str());
  if (status != 0) {
    throw IoError(fmt::format(
        "gnuplot failed (exit {}; see {}.log); install gnuplot-nox (scripts/setup.sh does)", status,
        prefix));
  }
  return prefix;
}

}  // namespace gradcomp
