#include "gradcomp/reproduce/reproduce.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gradcomp/core/csv.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"
#include "gradcomp/reproduce/arm_results.hpp"
#include "gradcomp/train/config.hpp"
#include "gradcomp/train/plot.hpp"
#include "gradcomp/train/trainer.hpp"

namespace gradcomp {

namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("cannot read '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One planned training run: an arm at one seed.
struct PlannedRun {
  std::size_t arm = 0;
  std::size_t seed = 0;
  std::string directory;
  TrainConfig config;
};

std::vector<PlannedRun> plan_runs(const Experiment& ex, const std::string& out) {
  std::vector<PlannedRun> runs;
  for (std::size_t a = 0; a < ex.arms.size(); ++a) {
    for (std::size_t seed = 1; seed <= ex.seeds; ++seed) {
      const std::string directory = fmt::format("{}/runs/{}-seed{}", out, ex.arms[a].id, seed);
      std::vector<std::string> overrides = ex.mode_overrides;
      overrides.insert(overrides.end(), ex.arms[a].overrides.begin(), ex.arms[a].overrides.end());
      overrides.push_back(fmt::format("run.seed={}", seed));
      overrides.push_back(fmt::format("run.out=\"{}\"", directory));
      // Parsing every configuration first reports a bad override before hours of runs.
      TrainConfig config = parse_config(
          ex.config_text, fmt::format("{} (arm {})", ex.origin, ex.arms[a].id), overrides);
      validate_specs(config);
      config.progress = false;  // one line per run instead (reproduce())
      runs.push_back({a, seed, directory, std::move(config)});
    }
  }
  return runs;
}

// The run directory holds a run of this configuration: its config.toml resolves to the same
// configuration. Resolved, not compared as text, so that a key added to gradcomp later (written
// with its default) does not discard the runs made before it.
bool same_configuration(const PlannedRun& run) {
  const std::string path = run.directory + "/config.toml";
  if (!fs::exists(path)) return false;
  const std::string planned = run.config.to_toml();
  const std::string stored = read_text(path);
  if (stored == planned) return true;
  try {
    return parse_config(stored, path, {}).to_toml() == planned;
  } catch (const std::exception&) {  // unreadable: not ours to keep
    return false;
  }
}

// A run finished earlier with the same configuration is kept; anything else in its directory
// (an interrupted run of ours) is replaced.
bool finished_before(const PlannedRun& run) {
  if (!same_configuration(run)) return false;
  if (fs::exists(run.directory + "/diverged.txt")) return true;
  if (!fs::exists(run.directory + "/summary.json")) return false;
  const auto summary =
      nlohmann::json::parse(read_text(run.directory + "/summary.json"), nullptr, false);
  return !summary.is_discarded() && summary.value("interrupted", true) == false;
}

// An interrupted run of the same configuration with a checkpoint continues from it (bit-identical
// to an uninterrupted run, tests/train); anything else in the directory is replaced.
bool resumable(const PlannedRun& run) {
  return fs::exists(run.directory + "/checkpoint/trainer.json") && same_configuration(run);
}

enum class Start { kDone, kResume, kFresh };

// Decided for every run before the first starts, so that the ranks of an mpi job agree while
// rank 0 writes the directories.
Start start_of(const PlannedRun& run) {
  if (finished_before(run)) return Start::kDone;
  return resumable(run) ? Start::kResume : Start::kFresh;
}

std::string execute(const PlannedRun& run, Start start_kind, Communicator& communicator) {
  if (start_kind == Start::kDone) return "done before";
  const bool resume = start_kind == Start::kResume;
  if (!resume && communicator.rank() == 0) fs::remove_all(run.directory);
  communicator.barrier();
  const auto start = std::chrono::steady_clock::now();
  std::string outcome = resume ? "resumed, " : "";
  try {
    const TrainResult result = train(run.config, communicator, resume ? run.directory : "");
    if (result.interrupted) {
      throw Interrupted(fmt::format(
          "interrupted during {} (a checkpoint was written); run the same command again to "
          "continue: finished runs are reused, this one resumes from its checkpoint",
          run.directory));
    }
    if (communicator.rank() != 0) return "";
    const auto& last = result.summary["final"];
    outcome += last["test_accuracy"].is_number()
                   ? fmt::format("test accuracy {:.2f}%", 100 * last["test_accuracy"].get<double>())
                   : fmt::format("train loss {}", last["train_loss"].dump());
    if (result.summary.contains("collapsed")) {
      outcome += fmt::format(", collapsed at step {}", result.summary["collapsed"]["step"].dump());
    }
  } catch (const Diverged& e) {
    if (communicator.size() > 1) throw;  // one rank's workers diverged: the job ends
    write_file_atomically(run.directory + "/diverged.txt", std::string(e.what()) + "\n");
    outcome += "diverged";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return fmt::format("{} ({:.0f} s)", outcome, seconds);
}

std::string mean_std(const ArmResults& arm, const char* function, const char* format) {
  const double mean = call_value(arm, {function, arm.arm.id, {}, ""});
  if (!std::isfinite(mean)) return "—";
  const double spread = call_value(arm, {fmt::format("std_{}", function), arm.arm.id, {}, ""});
  return fmt::format(fmt::runtime(format), mean, spread);
}

struct Column {
  const char* function;
  const char* header;
  const char* format;
};

const std::vector<Column>& columns() {
  static const std::vector<Column> all = {
      {"accuracy", "test accuracy (%)", "{:.2f} ± {:.2f}"},
      {"best_accuracy", "best (%)", "{:.2f} ± {:.2f}"},
      {"test_loss", "test loss", "{:.4f} ± {:.4f}"},
      {"suboptimality", "f − f*", "{:.3e} ± {:.1e}"},
      {"max_error", "max error", "{:.3g} ± {:.2g}"},
      {"density", "density", "{:.3g} ± {:.2g}"},
      {"mb", "MB sent/worker", "{:.3g} ± {:.2g}"},
      {"seconds", "simulated s", "{:.3g} ± {:.2g}"},
  };
  return all;
}

// Markdown and CSV tables of every arm, with the columns some arm has.
std::pair<std::string, std::string> results_tables(const std::vector<ArmResults>& arms) {
  std::vector<const Column*> shown;
  for (const Column& c : columns()) {
    for (const ArmResults& arm : arms) {
      if (std::isfinite(call_value(arm, {c.function, arm.arm.id, {}, ""}))) {
        shown.push_back(&c);
        break;
      }
    }
  }
  std::string md = "| arm | runs | diverged | collapsed |";
  std::string csv = "arm,label,runs,diverged,collapsed";
  for (const Column* c : shown) {
    md += fmt::format(" {} |", c->header);
    csv += fmt::format(",{}_mean,{}_std", c->function, c->function);
  }
  md += "\n|---|---|---|---|";
  for (std::size_t k = 0; k < shown.size(); ++k) md += "---|";
  md += "\n";
  for (const ArmResults& arm : arms) {
    const std::size_t diverged = diverged_seeds(arm);
    const std::size_t collapsed = collapsed_seeds(arm);
    md += fmt::format("| {} (`{}`) | {} | {} | {} |", arm.arm.label, arm.arm.id, arm.seeds.size(),
                      diverged, collapsed);
    csv += fmt::format("\n{},{},{},{},{}", csv_field(arm.arm.id), csv_field(arm.arm.label),
                       arm.seeds.size(), diverged, collapsed);
    for (const Column* c : shown) {
      md += fmt::format(" {} |", mean_std(arm, c->function, c->format));
      csv += fmt::format(",{},{}", call_value(arm, {c->function, arm.arm.id, {}, ""}),
                         call_value(arm, {fmt::format("std_{}", c->function), arm.arm.id, {}, ""}));
    }
    md += "\n";
  }
  return {md, csv + "\n"};
}

const ArmResults& arm_named(const std::vector<ArmResults>& arms, const std::string& id) {
  for (const ArmResults& arm : arms) {
    if (arm.arm.id == id) return arm;
  }
  throw InternalError(fmt::format("arm '{}' vanished after validation", id));
}

// One cell of a [[table]]: the function's mean over the arm's seeds, or with a baseline the
// baseline's mean minus the arm's; the spread is the sample std (combined in quadrature with the
// baseline's).
struct CellValue {
  double mean = NAN;
  double spread = NAN;
};

CellValue cell_value(const TableSpec& table, const std::vector<ArmResults>& arms, std::size_t row,
                     std::size_t column) {
  const auto of = [&](const std::string& id) {
    const ArmResults& arm = arm_named(arms, id);
    return CellValue{call_value(arm, {table.function, id, {}, ""}),
                     call_value(arm, {"std_" + table.function, id, {}, ""})};
  };
  CellValue value = of(table.cells[row][column]);
  if (table.baseline.empty() || table.baseline[column].empty()) return value;
  const CellValue base = of(table.baseline[column]);
  return {base.mean - value.mean, std::hypot(base.spread, value.spread)};
}

// mean ± std, followed by how many seeds diverged (excluded from the mean) or collapsed (at
// chance, included): "12.95 ± 3.61 (2 of 3 collapsed)".
std::string table_cell(const TableSpec& table, const std::vector<ArmResults>& arms, std::size_t row,
                       std::size_t column, const char* format) {
  const CellValue value = cell_value(table, arms, row, column);
  std::string cell = std::isfinite(value.mean)
                         ? fmt::format(fmt::runtime(format), value.mean, value.spread)
                         : std::string("—");
  const ArmResults& arm = arm_named(arms, table.cells[row][column]);
  std::vector<std::string> notes;
  const std::size_t seeds = arm.seeds.size();
  if (const std::size_t n = diverged_seeds(arm); n > 0) {
    notes.push_back(fmt::format("{} of {} diverged", n, seeds));
  }
  if (const std::size_t n = collapsed_seeds(arm); n > 0) {
    notes.push_back(fmt::format("{} of {} collapsed", n, seeds));
  }
  if (!notes.empty()) cell += fmt::format(" ({})", fmt::join(notes, ", "));
  return cell;
}

// The experiment's [[table]]s in markdown (TableSpec), each cell mean ± std over the seeds in the
// format of the results table's column for that function.
std::string paper_tables(const Experiment& ex, const std::vector<ArmResults>& arms) {
  std::string md;
  for (const TableSpec& table : ex.tables) {
    const char* format = "{:.4g} ± {:.2g}";
    for (const Column& c : columns()) {
      if (table.function == c.function) format = c.format;
    }
    md += fmt::format("\n## {}\n\n| {} |", table.title, table.column_label);
    for (const auto& column : table.columns) md += fmt::format(" {} |", column);
    md += "\n|---|";
    for (std::size_t k = 0; k < table.columns.size(); ++k) md += "---|";
    md += "\n";
    for (std::size_t r = 0; r < table.cells.size(); ++r) {
      md += fmt::format("| {} |", table.labels[r]);
      for (std::size_t k = 0; k < table.cells[r].size(); ++k) {
        md += table.cells[r][k].empty()
                  ? " |"
                  : fmt::format(" {} |", table_cell(table, arms, r, k, format));
      }
      md += "\n";
    }
  }
  return md;
}

// The [[table]]s with a plot: each row a series of (plot_x of the cell's arm, the cell's value).
std::vector<std::string> draw_tables(const Experiment& ex, const std::vector<ArmResults>& arms,
                                     const std::string& out) {
  std::vector<std::string> files;
  for (const TableSpec& table : ex.tables) {
    if (table.plot.empty()) continue;
    PointPlot plot;
    plot.out = fmt::format("{}/{}", out, table.plot);
    plot.title = fmt::format("{}: {}", ex.name, table.title);
    plot.x_label = table.plot_x_label;
    plot.y_label = !table.plot_y_label.empty() ? table.plot_y_label
                   : table.baseline.empty()
                       ? table.function
                       : fmt::format("{}: the baseline's minus the arm's", table.function);
    plot.log_x = table.plot_log_x;
    for (std::size_t r = 0; r < table.cells.size(); ++r) {
      PointSeries series{table.labels[r], {}};
      for (std::size_t k = 0; k < table.cells[r].size(); ++k) {
        const std::string& id = table.cells[r][k];
        if (id.empty()) continue;
        const double x = call_value(arm_named(arms, id), {table.plot_x, id, {}, ""});
        series.points.emplace_back(x, cell_value(table, arms, r, k).mean);
      }
      plot.series.push_back(std::move(series));
    }
    plot_points(plot);
    files.push_back(table.plot);
  }
  return files;
}

struct CheckResult {
  const Check* check;
  ClaimOutcome outcome;
};

std::string verdict(const Check& check, const ClaimOutcome& outcome) {
  if (check.known_miss.empty()) return outcome.holds ? "holds" : "FAILS";
  return outcome.holds ? fmt::format("holds (listed as a known miss: {})", check.known_miss)
                       : fmt::format("misses, as known: {}", check.known_miss);
}

// An arm's curve: the mean ± std over its seeds that did not diverge, or its first seed alone
// when every seed diverged (its curve shows where); none when that one has no evaluation.
PlotCurve curve_of(const ArmResults& arm) {
  PlotCurve curve{{}, arm.arm.label};
  for (const SeedRun& seed : arm.seeds) {
    if (!seed.diverged && !seed.records.empty()) curve.runs.push_back(seed.directory);
  }
  const SeedRun& first = arm.seeds.front();
  if (curve.runs.empty() && !first.records.empty()) curve.runs.push_back(first.directory);
  return curve;
}

std::vector<std::string> draw_plots(const Experiment& ex, const std::vector<ArmResults>& arms,
                                    const std::string& out) {
  std::vector<std::string> files;
  for (const PlotSpec& plot : ex.plots) {
    PlotRequest request;
    request.x = plot.x;
    request.y = plot.y;
    request.out = fmt::format("{}/{}", out, plot.name);
    request.title = fmt::format("{}: {}", ex.name, plot.name);
    for (const std::string& id : plot.arms) {
      request.curves.push_back(curve_of(arm_named(arms, id)));
      if (request.curves.back().runs.empty()) request.curves.pop_back();
    }
    if (request.curves.empty()) continue;
    plot_runs(request);
    files.push_back(plot.name);
  }
  return files;
}

std::string report_of(const Experiment& ex, const ReproduceRequest& request,
                      const std::string& table, const std::vector<CheckResult>& checks,
                      const std::vector<std::string>& plots) {
  const bool quick = request.mode == ReproduceMode::kQuick;
  std::string md = fmt::format("# {}: {}{}\n\n", ex.name, ex.title, quick ? " (quick mode)" : "");
  if (!ex.paper.empty()) md += fmt::format("Paper: {}\n\n", ex.paper);
  md += fmt::format("Command: `gradcomp reproduce {}{}`; {} seed(s) per arm; runs in `runs/`.\n\n",
                    ex.name, quick ? " --quick" : "", ex.seeds);
  md += fmt::format("## Results (mean ± sample std over seeds; diverged runs excluded)\n\n{}\n",
                    table);
  md += "## Checks\n\n";
  for (const CheckResult& c : checks) {
    md +=
        fmt::format("- **{}** {}  \n  `{}`  \n  {}\n", verdict(*c.check, c.outcome), c.check->claim,
                    c.check->test.expression(), fmt::join(c.outcome.comparisons, "; "));
  }
  if (!plots.empty()) {
    md += "\n## Plots (seed 1)\n\n";
    for (const auto& p : plots) md += fmt::format("![{}]({}.svg)\n", p, p);
  }
  return md;
}

}  // namespace

ReproduceOutcome reproduce(const ReproduceRequest& request, Communicator& communicator) {
  const bool writer = communicator.rank() == 0;
  const std::string path = find_experiment(request.name);
  Experiment ex = parse_experiment(read_text(path), path, request.mode);
  if (request.seeds > 0) ex.seeds = request.seeds;
  validate_functions(ex);
  const bool quick = request.mode == ReproduceMode::kQuick;
  const std::string out = request.out.empty()
                              ? fmt::format("reproductions/{}{}", ex.name, quick ? "-quick" : "")
                              : request.out;
  std::vector<PlannedRun> runs = plan_runs(ex, out);
  if (communicator.size() > 1) {
    for (PlannedRun& run : runs) run.config.backend = "mpi";
  }
  std::vector<Start> starts;
  starts.reserve(runs.size());
  for (const PlannedRun& run : runs) starts.push_back(start_of(run));
  communicator.barrier();  // every rank has decided before rank 0 writes anything
  if (writer) {
    fs::create_directories(out + "/runs");
    write_file_atomically(out + "/experiment.toml", read_text(path));
  }
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const std::string outcome = execute(runs[k], starts[k], communicator);
    if (writer && !request.quiet) {
      fmt::print("[{}/{}] {} seed {}: {}\n", k + 1, runs.size(), ex.arms[runs[k].arm].id,
                 runs[k].seed, outcome);
      std::fflush(stdout);
    }
  }
  if (!writer) return {out, ex.checks.size(), 0, ""};
  std::vector<ArmResults> arms;
  for (const Arm& arm : ex.arms) arms.push_back({arm, {}});
  for (const PlannedRun& run : runs) arms[run.arm].seeds.push_back(read_seed_run(run.directory));

  const auto [arm_table, csv] = results_tables(arms);
  const std::string table = arm_table + paper_tables(ex, arms);
  write_file_atomically(out + "/results.md", table);
  write_file_atomically(out + "/results.csv", csv);
  std::vector<CheckResult> checks;
  ReproduceOutcome outcome{out, ex.checks.size(), 0, ""};
  const ClaimSource source = [&](const ClaimCall& call) {
    return call_value(arm_named(arms, call.arm), call);
  };
  std::string printed = table + "\n";
  std::size_t known_misses = 0;
  for (const Check& check : ex.checks) {
    checks.push_back({&check, check.test.evaluate(source)});
    const ClaimOutcome& o = checks.back().outcome;
    if (!o.holds && check.known_miss.empty()) ++outcome.failed;
    if (!o.holds && !check.known_miss.empty()) ++known_misses;
    printed += fmt::format("{}: {}\n    {}\n", verdict(check, o), check.claim,
                           fmt::join(o.comparisons, "\n    "));
  }
  auto plots = draw_plots(ex, arms, out);
  for (std::string& file : draw_tables(ex, arms, out)) plots.push_back(std::move(file));
  write_file_atomically(out + "/report.md", report_of(ex, request, table, checks, plots));
  // A known miss does not fail the reproduction, but it does not hold either.
  const std::size_t held = outcome.checks - outcome.failed - known_misses;
  outcome.summary =
      printed +
      fmt::format("\n{} of {} checks hold{}{}; report: {}/report.md\n", held, outcome.checks,
                  known_misses > 0 ? fmt::format(", {} miss as known", known_misses) : "",
                  outcome.failed > 0 ? fmt::format(", {} FAIL", outcome.failed) : "", out);
  return outcome;
}

}  // namespace gradcomp
