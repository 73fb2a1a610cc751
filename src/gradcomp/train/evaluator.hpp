#pragma once
// The evaluation box of `gradcomp train`: every run.eval_every steps the model the algorithm
// names (evaluated_model: y = x − ē for DEF) is scored on the training set (or the fixed subset of
// run.train_eval_samples) and the test set, together with the algorithm's diagnostics, into one
// metrics record (docs/outputs.md). Convex objectives add f(y) − f* and ‖∇f(y)‖²; with
// run.gradient_geometry, worker 0's gradient geometry (train/gradient_geometry.hpp). Measuring
// never changes the run: the model's running statistics are put back.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <utility>

#include "gradcomp/algo/stepper.hpp"
#include "gradcomp/data/partition.hpp"
#include "gradcomp/model/objective.hpp"
#include "gradcomp/model/optimum.hpp"
#include "gradcomp/train/config.hpp"
#include "gradcomp/train/run_data.hpp"

namespace gradcomp {

template <class T>
class Evaluator {
 public:
  // optimum: f* and x* of a convex objective (unused otherwise). InvalidInput for
  // run.train_eval_samples with a convex objective.
  Evaluator(const TrainConfig& config, Objective<T>& objective, const RunData& data,
            const Shards& shards, const Optimum& optimum, std::uint64_t steps_per_epoch);

  // The record after the steps the stepper has run (step, epoch, lr, losses, accuracies,
  // suboptimality, diagnostics); the caller adds the traffic. Collective under mpi (the evaluated
  // model and the diagnostics all-reduce). Diverged when the training loss is not finite.
  nlohmann::ordered_json evaluate(Stepper<T>& stepper);

 private:
  [[nodiscard]] std::optional<Dataset> training_subset() const;
  double full_gradient_norm2(std::span<const T> y);
  std::pair<double, double> gradient_geometry(std::span<const T> y);

  const TrainConfig& config_;
  Objective<T>& objective_;
  const RunData& data_;
  const Shards& shards_;
  const Optimum& optimum_;
  std::uint64_t steps_per_epoch_;
  std::optional<Dataset> train_subset_;
};

extern template class Evaluator<float>;
extern template class Evaluator<double>;

}  // namespace gradcomp
