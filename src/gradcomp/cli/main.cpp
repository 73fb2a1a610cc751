// gradcomp: the command line. Exit codes are decided here and only here (STYLE.md §5):
// 0 success, 2 bad input (including undecodable messages), 3 I/O failure, 70 internal error.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <map>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/core/error.hpp"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"gradcomp: gradient compression and error feedback for distributed training"};
  app.require_subcommand(1);
  std::map<std::string, std::function<int()>> runners;
  runners["list"] = gradcomp::cli::add_list_command(app);
  runners["inspect"] = gradcomp::cli::add_inspect_command(app);
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
  } catch (const gradcomp::InvalidInput& e) {
    std::fprintf(stderr, "gradcomp: error: %s\n", e.what());
    return 2;
  } catch (const gradcomp::IoError& e) {
    std::fprintf(stderr, "gradcomp: I/O error: %s\n", e.what());
    return 3;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "gradcomp: out of memory\n");
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gradcomp: internal error (please report): %s\n", e.what());
    return 70;
  } catch (...) {
    std::fprintf(stderr, "gradcomp: internal error (please report): unknown exception\n");
    return 70;
  }
}
