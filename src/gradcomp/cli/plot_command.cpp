// `gradcomp plot RUN_DIR... [--x epoch|bits|time] [--y accuracy|loss|suboptimality|error]`.
#include <fmt/format.h>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/train/plot.hpp"

namespace gradcomp::cli {

std::function<int()> add_plot_command(CLI::App& app) {
  auto* command = app.add_subcommand("plot", "Plot runs' metrics with gnuplot (PNG and SVG)");
  auto request = std::make_shared<PlotRequest>();
  command->add_option("runs", request->runs, "run directories")->required();
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
  command->add_option("--out", request->out, "file prefix (default: in the first run)");
  return [request] {
    const std::string prefix = plot_runs(*request);
    fmt::print("wrote {}.png and {}.svg\n", prefix, prefix);
    return 0;
  };
}

}  // namespace gradcomp::cli
