#pragma once
// `gradcomp sweep`: a grid of configurations × seeds, each an ordinary run, summarised as
// mean ± std over seeds per grid point (the form of the papers' tables), in Markdown and CSV.
#include <string>
#include <vector>

namespace gradcomp {

struct SweepPlan {
  std::string config_text;             // the base configuration (TOML)
  std::string origin;                  // its name in errors
  std::vector<std::string> overrides;  // applied to every run
  std::vector<std::string> grid;       // "section.key=v1,v2,..."
  std::size_t seeds = 3;
  std::string out;  // the sweep's directory (runs go below it)
  // The record fields tabulated, in order; empty: test accuracy, test and train loss, f − f*, bits
  // sent and simulated seconds, those some grid point has.
  std::vector<std::string> columns;
};

// Runs the sweep (local backend) and returns the Markdown table it also writes to
// OUT/sweep.md (and OUT/sweep.csv).
std::string run_sweep(const SweepPlan& plan);

}  // namespace gradcomp
