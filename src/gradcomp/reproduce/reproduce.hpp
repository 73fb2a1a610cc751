#pragma once
// `gradcomp reproduce NAME [--quick]`: runs an experiment's arms over its seeds (reusing runs an
// earlier invocation finished with the same configuration), then writes the results table, the
// checks of the paper's claims and the plots into one directory (docs/reproduction.md).
#include <string>

#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/reproduce/experiment.hpp"

namespace gradcomp {

struct ReproduceRequest {
  std::string name;  // an experiment name or a path to its .toml
  ReproduceMode mode = ReproduceMode::kFull;
  std::string out;        // default: reproductions/NAME (quick: reproductions/NAME-quick)
  std::size_t seeds = 0;  // > 0 overrides the experiment's seed count
  bool quiet = false;     // no progress lines
};

struct ReproduceOutcome {
  std::string directory;
  std::size_t checks = 0;
  std::size_t failed = 0;  // checks whose claim did not hold
  std::string summary;     // the results table and the checks, as printed
};

// Runs on `communicator`: a LocalCommunicator, or one rank of `mpirun` (every rank runs every
// run as workers.backend = "mpi"; rank 0 writes the outputs, the others return an empty outcome;
// a run that diverges ends the whole job, as a diverged `gradcomp train` does).
ReproduceOutcome reproduce(const ReproduceRequest& request, Communicator& communicator);

}  // namespace gradcomp
