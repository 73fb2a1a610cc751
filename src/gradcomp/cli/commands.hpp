#pragma once
// The subcommands of `gradcomp`; each registers its options on the CLI11 app and runs.
#include <CLI/CLI.hpp>
#include <functional>

namespace gradcomp::cli {

// Registers the subcommand; the returned callable runs it after parsing (returns exit code).
std::function<int()> add_list_command(CLI::App& app);
std::function<int()> add_inspect_command(CLI::App& app);
std::function<int()> add_train_command(CLI::App& app);
std::function<int()> add_sweep_command(CLI::App& app);
std::function<int()> add_plot_command(CLI::App& app);
std::function<int()> add_reproduce_command(CLI::App& app);

}  // namespace gradcomp::cli
