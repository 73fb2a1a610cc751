#pragma once
// Loads the training and test sets a configuration names (data/ loaders and generators), holding
// out a seeded test fraction when there is no test file. Sparse data for a neural network is
// made dense when it fits in half the machine's memory (said in `note`), refused otherwise.
#include "gradcomp/data/dataset.hpp"
#include "gradcomp/train/config.hpp"

namespace gradcomp {

struct RunData {
  Dataset train;
  Dataset test;
  std::string note;  // what loading changed that the user should hear of (densified sparse data)
};

RunData load_run_data(const TrainConfig& config);

}  // namespace gradcomp
