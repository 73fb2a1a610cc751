#include "gradcomp/train/evaluator.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "gradcomp/algo/diagnostics_record.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/train/gradient_geometry.hpp"

namespace gradcomp {

namespace {

nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

double nan_if_empty(const Dataset& d, double v) {
  return d.samples == 0 ? std::numeric_limits<double>::quiet_NaN() : v;
}

}  // namespace

template <class T>
Evaluator<T>::Evaluator(const TrainConfig& config, Objective<T>& objective, const RunData& data,
                        const Shards& shards, const Optimum& optimum, std::uint64_t steps_per_epoch)
    : config_(config),
      objective_(objective),
      data_(data),
      shards_(shards),
      optimum_(optimum),
      steps_per_epoch_(steps_per_epoch),
      train_subset_(training_subset()) {}

// run.train_eval_samples = m > 0: the training loss and accuracy are evaluated on m samples
// spread evenly over the training set (every (N/m)-th), fixed for the run. Neural models only:
// the convex objectives' f − f* is about the whole training objective.
template <class T>
std::optional<Dataset> Evaluator<T>::training_subset() const {
  const std::size_t m = config_.train_eval_samples;
  if (m == 0 || m >= data_.train.samples) return std::nullopt;
  require(!objective_.convex(),
          "run.train_eval_samples = {} with the convex model '{}': f - f* is defined on the whole "
          "training set; remove the key (0 = every sample)",
          m, config_.model);
  std::vector<std::size_t> picked(m);
  for (std::size_t i = 0; i < m; ++i) picked[i] = i * data_.train.samples / m;
  return subset(data_.train, picked);
}

template <class T>
nlohmann::ordered_json Evaluator<T>::evaluate(Stepper<T>& stepper) {
  Algorithm<T>& algorithm = stepper.algorithm();
  const std::uint64_t steps = stepper.next_step();
  std::vector<T> y(objective_.layout().total_size());
  algorithm.evaluated_model(y);
  const Diagnostics diag = algorithm.diagnostics();
  const Evaluation train = objective_.evaluate(y, train_subset_ ? *train_subset_ : data_.train);
  if (!std::isfinite(train.loss)) {
    throw Diverged(fmt::format(
        "step {}: the training loss is {}; the run diverged — lower the learning rate or the "
        "compression ratio",
        steps, train.loss));
  }
  Evaluation test;
  if (data_.test.samples > 0) test = objective_.evaluate(y, data_.test);
  nlohmann::ordered_json r;
  r["step"] = steps;
  r["epoch"] = static_cast<double>(steps) / static_cast<double>(steps_per_epoch_);
  // The rate of the last step taken; at step 0, the rate the first step will take.
  r["lr"] = stepper.rate(steps > 0 ? static_cast<std::int64_t>(steps) - 1 : 0);
  r["train_loss"] = number(train.loss);
  r["train_accuracy"] = number(train.accuracy);
  r["test_loss"] = number(nan_if_empty(data_.test, test.loss));
  r["test_accuracy"] = number(nan_if_empty(data_.test, test.accuracy));
  if (objective_.convex()) {
    r["suboptimality"] = number(train.loss - optimum_.value);
    r["grad_norm2"] = number(full_gradient_norm2(y));
  }
  write_diagnostics(diag, r);
  if (config_.gradient_geometry) {
    const auto [phi, delta] = gradient_geometry(y);
    r["grad_phi"] = number(phi);
    r["grad_sign_delta"] = number(delta);
  }
  return r;
}

// The full objective's squared gradient norm at y (convex objectives).
template <class T>
double Evaluator<T>::full_gradient_norm2(std::span<const T> y) {
  std::vector<std::size_t> all(data_.train.samples);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<T> g(y.size());
  objective_.loss_and_gradient(y, data_.train, all, g);
  double norm = 0;
  for (const T v : g) norm += static_cast<double>(v) * static_cast<double>(v);
  return norm;
}

// [BlockEF] Fig. 1b: worker 0's stochastic gradient on the first `batch` samples of its shard, at
// y; returns {φ(g), ‖g‖₁²/(d‖g‖²)}. The model's running statistics are put back afterwards: the
// measurement must not change the run.
template <class T>
std::pair<double, double> Evaluator<T>::gradient_geometry(std::span<const T> y) {
  const std::vector<std::size_t>& shard = shards_.front();
  std::size_t count = shard.size();
  if (config_.batch != "full") count = std::min<std::size_t>(count, std::stoull(config_.batch));
  const std::vector<std::size_t> samples(shard.begin(),
                                         shard.begin() + static_cast<std::ptrdiff_t>(count));
  std::vector<std::vector<T>> saved;
  for (const auto& buffer : objective_.statistics()) {
    saved.emplace_back(buffer.data.begin(), buffer.data.end());
  }
  std::vector<T> g(y.size());
  objective_.begin_step();
  objective_.loss_and_gradient(y, data_.train, samples, g);
  objective_.end_step();
  auto buffers = objective_.statistics();
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    std::copy(saved[i].begin(), saved[i].end(), buffers[i].data.begin());
  }
  const std::span<const T> gradient(g);
  return {blockwise_sign_phi(gradient, objective_.layout()), sign_contraction(gradient)};
}

template class Evaluator<float>;
template class Evaluator<double>;

}  // namespace gradcomp
