#include "gradcomp/train/plot.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
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

std::vector<nlohmann::json> records_of(const std::string& run) {
  std::ifstream in(run + "/metrics.jsonl");
  require(in.good(),
          "'{}' has no metrics.jsonl; is it a gradcomp run directory (or a sweep's, with "
          "sweep.csv)?",
          run);
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) records.push_back(nlohmann::json::parse(line));
  }
  return records;
}

// A sweep's runs grouped by grid point: "run-001-compressor.k=6-seed2" belongs to
// "run-001-compressor.k=6", labelled "compressor.k=6" (sweep.cpp names the folders).
std::vector<PlotCurve> sweep_curves(const std::filesystem::path& sweep) {
  std::map<std::string, std::vector<std::string>> by_point;
  for (const auto& entry : std::filesystem::directory_iterator(sweep)) {
    const std::string name = entry.path().filename().string();
    const std::size_t seed = name.rfind("-seed");
    if (!entry.is_directory() || !name.starts_with("run-") || seed == std::string::npos) continue;
    by_point[name.substr(0, seed)].push_back(entry.path().string());
  }
  require(!by_point.empty(), "the sweep '{}' has no run-NNN-...-seedS folders to plot",
          sweep.string());
  std::vector<PlotCurve> curves;
  for (auto& [point, runs] : by_point) {
    std::sort(runs.begin(), runs.end());
    constexpr std::size_t kIndexPrefix = 8;  // "run-NNN-"
    curves.push_back({runs, point.size() > kIndexPrefix ? point.substr(kIndexPrefix) : point});
  }
  return curves;
}

// One point of a curve: the runs' mean x and y at a step, and the band's ends.
struct CurvePoint {
  double x = 0;
  double y = 0;
  double low = 0;
  double high = 0;
};

// Mean ± sample std over the runs at every step all of them have a finite value; on a log axis a
// band end at or below 0 is replaced by the lowest positive run value (or the mean).
std::vector<CurvePoint> mean_curve(const std::vector<std::vector<std::pair<double, double>>>& runs,
                                   const std::vector<std::vector<std::uint64_t>>& steps,
                                   bool log_y) {
  std::map<std::uint64_t, std::vector<std::pair<double, double>>> at_step;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    for (std::size_t i = 0; i < runs[r].size(); ++i) at_step[steps[r][i]].push_back(runs[r][i]);
  }
  std::vector<CurvePoint> points;
  for (const auto& [step, values] : at_step) {
    if (values.size() != runs.size()) continue;
    const auto n = static_cast<double>(values.size());
    CurvePoint p;
    double lowest = HUGE_VAL;  // the lowest positive value, for a log axis's band
    for (const auto& [x, y] : values) {
      p.x += x / n;
      p.y += y / n;
      if (y > 0) lowest = std::min(lowest, y);
    }
    double squares = 0;
    for (const auto& value : values) squares += (value.second - p.y) * (value.second - p.y);
    const double deviation = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0;
    p.low = p.y - deviation;
    p.high = p.y + deviation;
    if (log_y && p.low <= 0) p.low = std::min(lowest, p.y);
    points.push_back(p);
  }
  return points;
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

// The points of one y series over a curve's runs (their records), those drawable on the axes;
// records the y keys used (for the axis label).
std::vector<CurvePoint> drawable_points(const std::vector<std::vector<nlohmann::json>>& records,
                                        const Axis& x, const std::optional<NetworkModel>& clock,
                                        const Axis& y, bool log_x, bool log_y,
                                        std::set<std::string>& keys_used) {
  std::vector<std::vector<std::pair<double, double>>> values(records.size());
  std::vector<std::vector<std::uint64_t>> steps(records.size());
  for (std::size_t run = 0; run < records.size(); ++run) {
    for (const auto& record : records[run]) {
      const double a = value_of(record, x, clock);
      const double b = value_of(record, y);
      if (std::isfinite(a) && std::isfinite(b)) {
        values[run].emplace_back(a, b);
        steps[run].push_back(record.value("step", std::uint64_t{0}));
        keys_used.insert(*key_in(record, y));
      }
    }
  }
  std::vector<CurvePoint> drawable;
  for (const CurvePoint& p : mean_curve(values, steps, log_y)) {
    if ((log_y && p.y <= 0) || (log_x && p.x <= 0)) continue;  // not on a log axis
    drawable.push_back(p);
  }
  return drawable;
}

// gnuplot's elements of one curve drawn from `file` (x, mean, low, high): the shaded band when
// it averages several runs, and the line.
std::string plot_elements(const std::string& file, std::size_t colour, const std::string& title,
                          std::size_t runs) {
  std::string band;
  if (runs > 1) {
    band = fmt::format(
        "'{}' using 1:3:4 with filledcurves linecolor {} fillstyle transparent solid 0.2 "
        "notitle, ",
        file, colour);
  }
  const std::string seeds = runs > 1 ? fmt::format(" (mean ± std, {} runs)", runs) : "";
  return fmt::format("{}'{}' using 1:2 with linespoints linecolor {} title '{}{}' noenhanced", band,
                     file, colour, quoted_for_gnuplot(title), seeds);
}

// The directory --out's prefix names, created (with its parents) when missing.
void create_directory_of(const std::string& prefix) {
  const std::filesystem::path directory = std::filesystem::path(prefix).parent_path();
  if (directory.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    throw IoError(
        fmt::format("cannot create '{}' for --out: {}", directory.string(), error.message()));
  }
}

struct Axes {
  std::string x_label, y_label, title;
  bool log_x = false, log_y = false;
};

// The script drawing `plots` into PREFIX.png and PREFIX.svg.
std::string gnuplot_script(const Axes& axes, const std::string& prefix, const std::string& plots) {
  std::string script;
  for (const auto& [terminal, extension] : std::vector<std::pair<std::string, std::string>>{
           {"pngcairo size 900,600", "png"}, {"svg size 900,600", "svg"}}) {
    script += fmt::format("set terminal {}\nset output '{}.{}'\n", terminal, prefix, extension);
    script += fmt::format(
        "set xlabel '{}' noenhanced\nset ylabel '{}' noenhanced\nset key outside below\nset "
        "grid\n",
        quoted_for_gnuplot(axes.x_label), quoted_for_gnuplot(axes.y_label));
    script += axes.log_y ? "set logscale y\n" : "unset logscale y\n";
    script += axes.log_x ? "set logscale x\n" : "unset logscale x\n";
    if (!axes.title.empty())
      script += fmt::format("set title '{}' noenhanced\n", quoted_for_gnuplot(axes.title));
    script += fmt::format("plot {}\n", plots);
  }
  return script;
}

// Writes PREFIX.gp and runs gnuplot on it.
void run_gnuplot(const Axes& axes, const std::string& prefix, const std::string& plots) {
  write_file_atomically(prefix + ".gp", gnuplot_script(axes, prefix, plots));
  const int status = std::system(fmt::format("gnuplot '{}.gp' 2>'{}.log'", prefix, prefix).c_str());
  if (status != 0) {
    throw IoError(fmt::format(
        "gnuplot failed (exit {}; see {}.log); install gnuplot-nox (scripts/setup.sh does)", status,
        prefix));
  }
}

}  // namespace

void validate_axes(const std::string& x, const std::string& y) {
  x_axis(x);
  y_axis(y);
}

std::vector<PlotCurve> curves_from_paths(const std::vector<std::string>& paths,
                                         const std::vector<std::string>& labels) {
  std::vector<PlotCurve> curves;
  for (const std::string& path : paths) {
    const bool is_sweep = std::filesystem::exists(std::filesystem::path(path) / "sweep.csv") &&
                          !std::filesystem::exists(std::filesystem::path(path) / "metrics.jsonl");
    if (is_sweep) {
      for (PlotCurve& curve : sweep_curves(path)) curves.push_back(std::move(curve));
    } else {
      curves.push_back({{path}, ""});
    }
  }
  require(labels.size() <= curves.size(),
          "{} --label for {} curves; give at most one per curve (a run, or a sweep's grid point), "
          "in order",
          labels.size(), curves.size());
  for (std::size_t c = 0; c < labels.size(); ++c) curves[c].label = labels[c];
  return curves;
}

std::string plot_runs(const PlotRequest& request) {
  require(!request.curves.empty() && !request.curves.front().runs.empty(),
          "plot needs at least one run directory");
  const Axis x = x_axis(request.x);
  const auto clock = clock_of(request.x);
  const Axis y = y_axis(request.y);
  std::string prefix = request.out.empty()
                           ? fmt::format("{}/plot-{}-vs-{}", request.curves.front().runs.front(),
                                         request.y, request.x)
                           : request.out;
  create_directory_of(prefix);
  std::set<std::string> keys_used;
  std::string plots;
  std::size_t points = 0;
  const auto series = y_series(request.y);
  for (std::size_t r = 0; r < request.curves.size(); ++r) {
    const PlotCurve& source = request.curves[r];
    std::vector<std::vector<nlohmann::json>> records;
    for (const std::string& run : source.runs) records.push_back(records_of(run));
    const std::string label = source.label.empty() ? label_of(source.runs.front()) : source.label;
    for (std::size_t c = 0; c < series.size(); ++c) {
      const Axis& curve = series[c].first;
      const bool log_y = curve.log || request.log_y;
      std::string data;
      for (const CurvePoint& p :
           drawable_points(records, x, clock, curve, request.log_x, log_y, keys_used)) {
        data += fmt::format("{} {} {} {}\n", p.x, p.y, p.low, p.high);
        ++points;
      }
      const std::string file = series.size() == 1 ? fmt::format("{}.run{}.dat", prefix, r)
                                                  : fmt::format("{}.run{}.{}.dat", prefix, r, c);
      write_file_atomically(file, data);
      const std::string title = fmt::format("{}{}", label, series[c].second);
      plots +=
          fmt::format("{}{}", plots.empty() ? "" : ", ",
                      plot_elements(file, r * series.size() + c + 1, title, source.runs.size()));
    }
  }
  require(points > 0, "no run has '{}' against '{}' to plot", y.keys.front(), x.keys.front());
  run_gnuplot(
      {x.label, y_label(y, keys_used), request.title, request.log_x, y.log || request.log_y},
      prefix, plots);
  return prefix;
}

std::string plot_points(const PointPlot& plot) {
  create_directory_of(plot.out);
  std::string plots;
  std::size_t drawn = 0;
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    std::string data;
    for (const auto& [x, y] : plot.series[s].points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (plot.log_x && x <= 0)) continue;
      data += fmt::format("{} {} {} {}\n", x, y, y, y);
      ++drawn;
    }
    const std::string file = fmt::format("{}.series{}.dat", plot.out, s);
    write_file_atomically(file, data);
    plots += fmt::format("{}{}", plots.empty() ? "" : ", ",
                         plot_elements(file, s + 1, plot.series[s].label, 1));
  }
  require(drawn > 0, "'{}' has no point to draw", plot.title);
  run_gnuplot({plot.x_label, plot.y_label, plot.title, plot.log_x, false}, plot.out, plots);
  return plot.out;
}

}  // namespace gradcomp
