#pragma once
// GradientSource: the workers' gradients handed to an algorithm that computes them inside its own
// per-worker task (Algorithm::step_computing), instead of receiving all of them computed before
// the step: the gradient is used while it is in the core's cache, the step saves a round over
// the workers, and a point the algorithm would only store to be read once (DEF's detached point
// z = x − κ·e) need not be stored at all. The trainer's WorkerGradients is one.
#include <cstddef>
#include <span>

namespace gradcomp {

// The point x − κ·e, element i rounded to T as x_i − κ·e_i (one rounding per operation), given
// by its parts.
template <class T>
struct DetachedPoint {
  std::span<const T> x;
  T kappa;
  std::span<const T> error;
};

template <class T>
class GradientSource {
 public:
  virtual ~GradientSource() = default;
  GradientSource() = default;
  GradientSource(const GradientSource&) = delete;
  GradientSource& operator=(const GradientSource&) = delete;

  // Local worker j's stochastic gradient of the coming step at `point`, the bits of the gradient
  // at the point written out; valid until the next call for j. Throws Diverged naming the step,
  // the worker and the layer if it is not finite. Safe to call for different workers at once.
  virtual std::span<const T> gradient_at(std::size_t local_worker,
                                         const DetachedPoint<T>& point) = 0;
};

}  // namespace gradcomp
