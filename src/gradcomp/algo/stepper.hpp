#pragma once
// Stepper: one optimizer step as every training loop drives it — the trainer behind
// `gradcomp train` and the PyTorch optimizer of the Python module alike, so neither holds a copy
// of the other's stepping. It owns the step counter and the schedule, hands the algorithm both
// rates of each step (γ_t and γ_{t−1}, docs/algorithms.md "Step sizes"), checks that every hosted
// worker's gradient and the resulting model are finite, and reports a non-finite value as
// Diverged naming the step, the worker and the layer.
//
// The gradients come from the caller (an Objective in the trainer, autograd in PyTorch), each
// computed at query_point(j) of the coming step.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "gradcomp/algo/algorithm.hpp"
#include "gradcomp/algo/schedule.hpp"
#include "gradcomp/core/layout.hpp"

namespace gradcomp {

template <class T>
class Stepper {
 public:
  // rate_unit: the schedule's rates are multiples of it (1, or 1/L for algorithm.lr_unit = "1/L").
  // first_worker: the global index of this process's first hosted worker, for messages.
  Stepper(Algorithm<T>& algorithm, const Layout& layout, std::unique_ptr<Schedule> schedule,
          double rate_unit, std::size_t first_worker);

  // t of the coming step: 0 before the first, the checkpoint's step after resume_at.
  [[nodiscard]] std::uint64_t next_step() const { return next_step_; }
  // Continues from a restored algorithm state at `step`.
  void resume_at(std::uint64_t step) { next_step_ = step; }

  // γ_t in the optimizer's units (0 before the first step, t = −1).
  [[nodiscard]] double rate(std::int64_t step) const;
  // Where hosted worker j computes its gradient for the coming step.
  [[nodiscard]] std::span<const T> query_point(std::size_t local_worker) const {
    return algorithm_.query_point(local_worker);
  }

  // Runs step next_step() from the hosted workers' gradients and advances the counter. Collective
  // under mpi. Diverged (nothing advanced) if a gradient is not finite; Diverged after the step
  // if the model is not (the run cannot continue either way).
  void step(const std::vector<std::span<const T>>& gradients);
  // The same for gradients that check_gradient has passed (the trainer checks each where it was
  // computed, in the worker's task, saving a round over the workers).
  void step_checked(const std::vector<std::span<const T>>& gradients);
  // The same step for an algorithm that computes_gradients(), asking `source` for each (which
  // checks them, as check_gradient does).
  void step_computing(GradientSource<T>& source);
  // Diverged naming the step, the worker and the layer if local worker j's gradient for the
  // coming step is not finite. Safe to call for several workers at once.
  void check_gradient(std::size_t local_worker, std::span<const T> gradient) const {
    check_finite(gradient, next_step_, first_worker_ + local_worker, "gradient");
  }
  // The same Diverged for a gradient found not finite at `index` (value `bad`) where it was not
  // stored (GradientSource::detached_input_at).
  [[noreturn]] void reject_gradient(std::size_t local_worker, std::size_t index, T bad) const {
    reject(next_step_, first_worker_ + local_worker, "gradient", index, bad);
  }

  [[nodiscard]] Algorithm<T>& algorithm() { return algorithm_; }
  [[nodiscard]] const Algorithm<T>& algorithm() const { return algorithm_; }
  [[nodiscard]] const Schedule& schedule() const { return *schedule_; }

 private:
  // Runs one step through run_algorithm(rates) and advances the counter.
  template <class RunAlgorithm>
  void advance(const RunAlgorithm& run_algorithm);
  void check_finite(std::span<const T> values, std::uint64_t step,
                    std::optional<std::size_t> worker, const char* what) const;
  [[noreturn]] void reject(std::uint64_t step, std::optional<std::size_t> worker, const char* what,
                           std::size_t index, T bad) const;

  Algorithm<T>& algorithm_;
  const Layout& layout_;
  std::unique_ptr<Schedule> schedule_;
  double rate_unit_;
  std::size_t first_worker_;
  std::uint64_t next_step_ = 0;
};

extern template class Stepper<float>;
extern template class Stepper<double>;

}  // namespace gradcomp
