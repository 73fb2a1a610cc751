#pragma once
// GradientsAtModel: the base of an algorithm whose workers all take their gradients at the model
// x and read each only in that worker's own task of the step. It writes its step once, on
// TaskGradients (step_on), and so serves both Algorithm::step (the gradients computed before the
// step) and Algorithm::step_computing (each computed inside its worker's task and used while it
// is in the core's cache: the same bits, one round over the workers fewer).
#include <span>
#include <vector>

#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/gradient_source.hpp"

namespace gradcomp {

template <class T>
class GradientsAtModel : public AlgorithmBase<T> {
 public:
  using AlgorithmBase<T>::AlgorithmBase;

  [[nodiscard]] std::span<const T> query_point(std::size_t /*local_worker*/) const final {
    return this->x_;
  }
  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) final {
    step_on(TaskGradients<T>(gradients), rates);
  }
  [[nodiscard]] bool computes_gradients() const final { return true; }
  void step_computing(GradientSource<T>& source, const StepRates& rates) final {
    step_on(TaskGradients<T>(source, this->x_), rates);
  }

 protected:
  // One step: worker j's task reads its gradient as gradients.of(j), once.
  virtual void step_on(const TaskGradients<T>& gradients, const StepRates& rates) = 0;
};

}  // namespace gradcomp
