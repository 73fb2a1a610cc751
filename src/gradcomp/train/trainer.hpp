#pragma once
// The trainer (docs/architecture.md, train/): wires data, partition, objective, algorithm,
// exchange, schedule and network model into `gradcomp train`, evaluates every N steps on the model
// the algorithm names, and writes the run directory (docs/outputs.md).
#include <nlohmann/json.hpp>
#include <string>

#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/train/config.hpp"

namespace gradcomp {

struct TrainResult {
  std::string directory;           // on rank 0; empty elsewhere
  nlohmann::ordered_json summary;  // summary.json
  bool interrupted = false;        // stopped by SIGINT/SIGTERM after a final checkpoint
  std::uint64_t steps_done = 0;
};

// Runs the configured training on this process's communicator (local, or one rank of mpi).
// resume: a run directory with a checkpoint to continue from (its config is `config`).
TrainResult train(const TrainConfig& config, Communicator& communicator,
                  const std::string& resume = "");

}  // namespace gradcomp
