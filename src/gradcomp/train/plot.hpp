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
};

// Writes PREFIX.png and PREFIX.svg; returns PREFIX. InvalidInput for unknown axes, a run without
// metrics, a metric no run has; IoError when gnuplot is missing or fails.
std::string plot_runs(const PlotRequest& request);

// InvalidInput, as plot_runs would throw it, for an unknown x or y (checked before any run).
void validate_axes(const std::string& x, const std::string& y);

}  // namespace gradcomp
