#pragma once
// `gradcomp plot`: curves of several runs from their metrics.jsonl, drawn by gnuplot into a PNG
// and an SVG, one curve per run labelled by its method.
#include <string>
#include <vector>

namespace gradcomp {

struct PlotRequest {
  std::vector<std::string> runs;    // run directories
  std::string x = "epoch";          // epoch | bits | time
  std::string y = "accuracy";       // accuracy | loss | suboptimality | error
  std::string out;                  // file prefix; default: <first run>/plot-<y>-vs-<x>
  std::vector<std::string> labels;  // one per run; default: "algorithm / compressor"
  std::string title;
  bool log_x = false;  // logarithmic x axis
  bool log_y = false;  // logarithmic y axis (loss, f − f*, error and geometry are always)
};

// Writes PREFIX.png and PREFIX.svg (creating PREFIX's directory); returns PREFIX. The y label
// says which set the values come from (test, or train where a run has no test set). InvalidInput
// for unknown axes, a run without metrics, a metric no run has, more labels than runs; IoError
// when gnuplot is missing or fails.
std::string plot_runs(const PlotRequest& request);

// InvalidInput, as plot_runs would throw it, for an unknown x or y (checked before any run).
void validate_axes(const std::string& x, const std::string& y);

}  // namespace gradcomp
