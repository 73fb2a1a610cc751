#pragma once
// `gradcomp plot`: curves of several runs from their metrics.jsonl, drawn by gnuplot into a PNG
// and an SVG, one curve per run (or per configuration over seeds, with a ± std band), labelled by
// its method.
#include <string>
#include <utility>
#include <vector>

namespace gradcomp {

// One curve: a run, or several runs of one configuration over seeds, drawn as their mean with a
// band of ± one sample standard deviation.
struct PlotCurve {
  std::vector<std::string> runs;  // run directories
  std::string label;              // empty: "algorithm / compressor" of the first run
};

struct PlotRequest {
  std::vector<PlotCurve> curves;
  std::string x = "epoch";     // epoch | bits | time
  std::string y = "accuracy";  // accuracy | loss | suboptimality | error
  std::string out;             // file prefix; default: <first run>/plot-<y>-vs-<x>
  std::string title;
  bool log_x = false;  // logarithmic x axis
  bool log_y = false;  // logarithmic y axis (loss, f − f*, error and geometry are always)
};

// The curves of the paths `gradcomp plot` was given: a run directory is one curve; a sweep's
// directory (sweep.csv beside its run-NNN-POINT-seedS folders) is one curve per grid point, over
// its seeds, labelled by the point. `labels` name the curves in order. InvalidInput for a path
// that is neither, or for more labels than curves.
std::vector<PlotCurve> curves_from_paths(const std::vector<std::string>& paths,
                                         const std::vector<std::string>& labels);

// Writes PREFIX.png and PREFIX.svg (creating PREFIX's directory); returns PREFIX. The y label
// says which set the values come from (test, or train where a run has no test set). A curve of
// several runs has a point at every step all of them evaluated. InvalidInput for unknown axes, a
// run without metrics, a metric no run has; IoError when gnuplot is missing or fails.
std::string plot_runs(const PlotRequest& request);

// Series of (x, y) points that are not curves of a run, e.g. a reproduction's gap to SGD against
// how often a coordinate was sent: one line per series; non-finite points (and x ≤ 0 on a log
// axis) are left out. Writes OUT.png and OUT.svg; InvalidInput when no point is drawable.
struct PointSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;
};
struct PointPlot {
  std::vector<PointSeries> series;
  std::string x_label, y_label, title;
  std::string out;  // file prefix
  bool log_x = false;
};
std::string plot_points(const PointPlot& plot);

// InvalidInput, as plot_runs would throw it, for an unknown x or y (checked before any run).
void validate_axes(const std::string& x, const std::string& y);

}  // namespace gradcomp
