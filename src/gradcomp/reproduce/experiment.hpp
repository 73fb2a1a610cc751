#pragma once
// An experiment of the reproduction suite (experiments/NAME.toml, docs/reproduction.md): a base
// training configuration, the arms that vary it, the claims checked on their results, and the
// plots. Reading one validates everything (keys, arm ids, check expressions) before any run.
#include <string>
#include <vector>

#include "gradcomp/reproduce/claim.hpp"

namespace gradcomp {

enum class ReproduceMode { kQuick, kFull };

// One configuration of the experiment, run once per seed.
struct Arm {
  std::string id;                      // "def-256": names it in checks, plots and directories
  std::string label;                   // "DEF r=256": names it in tables and plot legends
  std::vector<std::string> overrides;  // "section.key=value", applied after the base and [quick]
};

struct Check {
  std::string claim;  // the paper's claim in words
  Claim test;         // its expression
  // Non-empty: we know this claim does not reproduce here, and why (docs/reproduction.md). It is
  // still evaluated and reported, but does not fail the reproduction; if it starts to hold, the
  // report says so.
  std::string known_miss;
};

struct PlotSpec {
  std::string name;               // file prefix inside the reproduction's directory
  std::vector<std::string> arms;  // arm ids
  std::string x = "epoch";
  std::string y = "accuracy";
};

// A table in a paper's form ([DEF] Table 1: methods × compression ratios): one function of the
// arms' results (mean ± std over seeds) per cell. A row is a pattern ("def-{c}": {c} takes each
// column's value; no {c}: the same arm in every column) or an explicit list of arm ids, one per
// column ("" leaves a cell empty). With a baseline each cell is the baseline's mean minus the
// arm's (a gap, e.g. to SGD), and a table may also be drawn: each row a series of points
// (plot_x of the cell's arm, the cell's value).
struct TableSpec {
  std::string title;
  std::string column_label;                     // the header of the label column ("method")
  std::vector<std::string> columns;             // column headers, also the values of {c}
  std::vector<std::string> labels;              // one per row
  std::vector<std::vector<std::string>> cells;  // rows × columns of arm ids ("" = empty)
  std::string function = "accuracy";            // a one-argument function of arm_results.hpp
  std::vector<std::string> baseline;  // per column: the arm subtracted from ("" none); or empty
  std::string plot;                   // file prefix of the drawing; empty: not drawn
  std::string plot_x = "sends";       // a one-argument function: each point's x
  std::string plot_x_label;           // default: plot_x
  std::string plot_y_label;           // default: the function (and "baseline − arm")
  bool plot_log_x = false;
};

struct Experiment {
  std::string name;
  std::string title;
  std::string paper;  // where the claim is in the papers (paper key and section: [DEF] Table 1)
  std::string config_text;  // the base training configuration, as TOML
  std::string origin;       // the experiment file, for errors
  std::size_t seeds = 1;
  std::vector<std::string> mode_overrides;  // [quick] set = [...] (quick mode only)
  std::vector<Arm> arms;                    // expanded for the chosen mode
  std::vector<Check> checks;
  std::vector<PlotSpec> plots;
  std::vector<TableSpec> tables;
};

// Reads an experiment for one mode. Arms with `values = { r = [16, 64] }` expand into one arm
// per combination ({r} in id, label and overrides is replaced); `quick_values` replaces `values`
// in quick mode, and an arm's `quick_set` overrides are added in quick mode; `modes = ["full"]`
// limits an arm, check or plot to one mode.
Experiment parse_experiment(const std::string& text, const std::string& origin, ReproduceMode mode);

// experiments/NAME.toml, looked up in ./experiments, then in the source tree's experiments/
// (a path ending in .toml is taken as it is). Throws InvalidInput listing the known names.
std::string find_experiment(const std::string& name);
std::vector<std::string> known_experiments();

}  // namespace gradcomp
