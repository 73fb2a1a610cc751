// gradcomp: the command line. Exit codes come from one mapping, core/exit_report.hpp (docs/cli.md,
// exit codes): 0 success, 2 bad input (including undecodable messages), 3 I/O failure, 70 internal
// error.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/core/exit_report.hpp"

namespace {

// CLI11's parse errors in gradcomp's style (docs/cli.md): "gradcomp: error: ...", the command
// named when it is unknown or missing, and where the valid options are listed.
std::string parse_error_text(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  const std::string listed = fmt::format("commands: {}", fmt::join(commands, ", "));
  if (app.get_subcommands().empty()) {
    if (argc > 1 && argv[1][0] != '-')
      return fmt::format("unknown command '{}'; {} (gradcomp --help)", argv[1], listed);
    if (argc == 1) return fmt::format("give a command; {} (gradcomp --help)", listed);
  }
  const std::string where =
      app.get_subcommands().empty()
          ? std::string("gradcomp --help")
          : fmt::format("gradcomp {} --help", app.get_subcommands().front()->get_name());
  return fmt::format("{} ({} lists the options)", e.what(), where);
}

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
    if (e.get_exit_code() == 0) return app.exit(e);  // --help: CLI11 prints it
    std::fprintf(stderr, "gradcomp: error: %s\n", parse_error_text(app, e, argc, argv).c_str());
    return 2;
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
