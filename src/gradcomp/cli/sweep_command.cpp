// `gradcomp sweep CONFIG.toml --grid section.key=v1,v2,... [--grid ...] --seeds 3`: every grid
// point × seed as an ordinary run (local backend), then a table of mean ± std per grid point.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/cli/whole_number.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/train/config.hpp"
#include "gradcomp/train/sweep.hpp"

namespace gradcomp::cli {

std::function<int()> add_sweep_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "sweep", "Run a grid of configurations over seeds; write a mean ± std table");
  auto plan = std::make_shared<SweepPlan>();
  auto path = std::make_shared<std::string>();
  command->add_option("config", *path, "TOML configuration (default: the embedded default run)");
  command->add_option("--grid", plan->grid, "section.key=v1,v2,... (repeatable: a product grid)")
      ->allow_extra_args(false);
  command->add_option("--seeds", plan->seeds, "runs per grid point, seeds 1..N")
      ->check(whole_number())
      ->default_val(3);
  command->add_option("--set", plan->overrides, "override a key for every run")
      ->allow_extra_args(false);
  command->add_option("--out", plan->out, "the sweep's directory (must not exist or be empty)");
  command
      ->add_option("--columns", plan->columns,
                   "record fields to tabulate, in order (e.g. test_accuracy,density,bits_up; "
                   "default: accuracy, losses, f - f*, bits and simulated seconds)")
      ->delimiter(',')
      ->allow_extra_args(false);
  return [plan, path] {
    if (path->empty()) {
      plan->config_text = default_config_toml();
      plan->origin = "the default config";
    } else {
      require(std::filesystem::exists(*path), "config file '{}' does not exist", *path);
      std::ifstream in(*path);
      std::stringstream text;
      text << in.rdbuf();
      plan->config_text = text.str();
      plan->origin = *path;
    }
    fmt::print("{}", run_sweep(*plan));
    return 0;
  };
}

}  // namespace gradcomp::cli
