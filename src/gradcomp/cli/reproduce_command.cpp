// `gradcomp reproduce NAME [--quick] [--out DIR] [--seeds N]` and `gradcomp reproduce --list`:
// one experiment of the reproduction suite (docs/reproduction.md). Exit code 0 when every check
// of the paper's claim holds, 1 when one does not, 2 for a bad experiment or configuration.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/cli/whole_number.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/comm/mpi_communicator.hpp"
#include "gradcomp/comm/mpi_session.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/reproduce/reproduce.hpp"

namespace gradcomp::cli {

namespace {

// Exit code of a reproduction whose claim did not hold (distinct from bad input, 2).
constexpr int kClaimFailed = 1;

struct ReproduceOptions {
  ReproduceRequest request;
  bool quick = false;
  bool list = false;
  bool mpi = false;
};

int run_reproduce(ReproduceOptions& options) {
  if (options.list) {
    for (const auto& name : known_experiments()) fmt::print("{}\n", name);
    return 0;
  }
  require(!options.request.name.empty(),
          "reproduce needs an experiment name; known: {} (gradcomp reproduce --list)",
          fmt::join(known_experiments(), ", "));
  options.request.mode = options.quick ? ReproduceMode::kQuick : ReproduceMode::kFull;
  if (!options.mpi) {
    LocalCommunicator local;
    const ReproduceOutcome outcome = reproduce(options.request, local);
    fmt::print("\n{}", outcome.summary);
    return outcome.failed == 0 ? 0 : kClaimFailed;
  }
  int argc = 0;
  char** argv = nullptr;
  MpiSession session(argc, argv);
  return run_rank(session, [&] {
    MpiCommunicator mpi(MPI_COMM_WORLD, AllreduceAlgorithm::kRing);
    const ReproduceOutcome outcome = reproduce(options.request, mpi);
    if (session.rank() == 0) fmt::print("\n{}", outcome.summary);
    return outcome.failed == 0 ? 0 : kClaimFailed;
  });
}

}  // namespace

std::function<int()> add_reproduce_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "reproduce",
      "Run one of the papers' claims (experiments/NAME.toml); exit 1 if it does not hold");
  auto options = std::make_shared<ReproduceOptions>();
  command->add_option("name", options->request.name,
                      "experiment: s004-logreg, s000-def, ... or a path to an experiment .toml");
  command->add_flag("--quick", options->quick, "the small version (minutes; what CI runs)");
  command->add_option("--out", options->request.out,
                      "directory (default reproductions/NAME or NAME-quick); finished runs with "
                      "the same configuration are reused");
  command->add_option("--seeds", options->request.seeds, "override the experiment's seed count")
      ->check(whole_number());
  command->add_flag("--list", options->list, "list the experiments");
  command->add_flag("--quiet", options->request.quiet, "no progress lines");
  command->add_flag("--mpi", options->mpi,
                    "run every run with workers.backend = mpi (start under mpirun -np p)");
  return [options] { return run_reproduce(*options); };
}

}  // namespace gradcomp::cli
