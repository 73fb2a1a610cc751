// `gradcomp plot RUN_OR_SWEEP_DIR... [--x epoch|bits|time] [--y accuracy|loss|suboptimality|error]
// [--label L ...] [--title T] [--logx] [--logy] [--out PREFIX]`.
#include <fmt/format.h>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/train/plot.hpp"

namespace gradcomp::cli {

std::function<int()> add_plot_command(CLI::App& app) {
  auto* command = app.add_subcommand("plot", "Plot runs' metrics with gnuplot (PNG and SVG)");
  auto request = std::make_shared<PlotRequest>();
  auto paths = std::make_shared<std::vector<std::string>>();
  auto labels = std::make_shared<std::vector<std::string>>();
  command
      ->add_option("runs", *paths,
                   "run directories, or a sweep's directory (one curve per grid point: the mean "
                   "over its seeds with a ± std band)")
      ->required();
  command
      ->add_option("--x", request->x,
                   "epoch, bits, time, or time:NETWORK (e.g. time:10Gbit: the same run timed on "
                   "another network)")
      ->default_val("epoch");
  command
      ->add_option(
          "--y", request->y,
          "accuracy, loss, suboptimality, error or geometry (grad_phi and grad_sign_delta)")
      ->default_val("accuracy");
  command->add_option("--out", request->out,
                      "file prefix (default: in the first run; its directory is created)");
  command->add_option("--label", *labels, "a curve's label, one per curve in order")
      ->allow_extra_args(false);
  command->add_option("--title", request->title, "the plot's title");
  command->add_flag("--logx", request->log_x, "logarithmic x axis");
  command->add_flag("--logy", request->log_y,
                    "logarithmic y axis (loss, suboptimality, error and geometry always are)");
  return [request, paths, labels] {
    request->curves = curves_from_paths(*paths, *labels);
    const std::string prefix = plot_runs(*request);
    fmt::print("wrote {}.png and {}.svg\n", prefix, prefix);
    return 0;
  };
}

}  // namespace gradcomp::cli
