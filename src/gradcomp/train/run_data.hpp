#pragma once
// Loads the training and test sets a configuration names (data/ loaders and generators), holding
// out a seeded test fraction when there is no test file.
#include "gradcomp/data/dataset.hpp"
#include "gradcomp/train/config.hpp"

namespace gradcomp {

struct RunData {
  Dataset train;
  Dataset test;
};

RunData load_run_data(const TrainConfig& config);

}  // namespace gradcomp
