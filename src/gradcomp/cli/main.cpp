// gradcomp: the command line. Exit codes come from one mapping, core/exit_report.hpp (docs/cli.md, exit codes):
// 0 success, 2 bad input (including undecodable messages), 3 I/O failure, 70 internal error.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <map>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/core/exit_report.hpp"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"gradcomp: gradient compression and error feedback for distributed training"};
  app.require_subcommand(1);
  std::map<std::string, std::function<int()>> runners;
  runners["list"] = gradcomp::cli::add_list_command(app);
  runners["inspect"] = gradcomp::cli::add_inspect_command(app);
  runners["train"] = gradcomp::cli::add_train_command(app);
  runners["sweep"] = gradcomp::cli::add_sweep_command(app);
  runners["plot"] = gradcomp::cli::add_plot_command(app);
  runners["reproduce"] = gradcomp::cli::add_reproduce_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (auto* sub : app.get_subcommands()) return runners.at(sub->get_name())();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (...) {
    const gradcomp::ExitReport report = gradcomp::report_current_exception();
    std::fprintf(stderr, "gradcomp: %s\n", report.message.c_str());
    return report.code;
  }
}
